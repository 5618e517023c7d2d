package sealed

import (
	"bytes"
	"slices"
	"strings"
)

// span is the byte range of one JSON value inside a document.
type span struct{ start, end int }

// pathTree is a set of dotted paths split at the dots: the member names
// of one object level, each either a personal value itself (leaf) or an
// object with personal values below (sub).
type pathTree struct {
	src   []string // the paths it was built from (root only)
	names []string
	leaf  []bool
	sub   []*pathTree
}

// newPathTree builds the tree of paths.
func newPathTree(paths []string) *pathTree {
	t := &pathTree{src: paths}
	for _, p := range paths {
		t.add(p)
	}
	return t
}

func (t *pathTree) add(p string) {
	head, rest, deep := strings.Cut(p, ".")
	i := slices.Index(t.names, head)
	if i < 0 {
		t.names, t.leaf, t.sub = append(t.names, head), append(t.leaf, false), append(t.sub, nil)
		i = len(t.names) - 1
	}
	if !deep {
		t.leaf[i] = true
		return
	}
	if t.sub[i] == nil {
		t.sub[i] = &pathTree{}
	}
	t.sub[i].add(rest)
}

// collect appends to spans the values at the paths of t inside the object
// at sp (null values and absent paths are skipped), reading the object
// once.
func collect(data []byte, sp span, t *pathTree, spans []span) ([]span, error) {
	i := skipSpace(data, sp.start)
	if i >= sp.end || data[i] != '{' {
		return spans, nil
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= sp.end {
			return nil, errMalformed
		}
		switch data[i] {
		case '}':
			return spans, nil
		case ',':
			i++
			continue
		case '"':
		default:
			return nil, errMalformed
		}
		kEnd, err := skipString(data, i)
		if err != nil {
			return nil, err
		}
		key := data[i+1 : kEnd-1]
		i = skipSpace(data, kEnd)
		if i >= sp.end || data[i] != ':' {
			return nil, errMalformed
		}
		vStart := skipSpace(data, i+1)
		vEnd, err := skipValue(data, vStart)
		if err != nil {
			return nil, err
		}
		for n, name := range t.names {
			if name != string(key) {
				continue
			}
			if t.leaf[n] {
				if !bytes.Equal(data[vStart:vEnd], nullJSON) {
					spans = append(spans, span{vStart, vEnd})
				}
			} else if t.sub[n] != nil {
				if spans, err = collect(data, span{vStart, vEnd}, t.sub[n], spans); err != nil {
					return nil, err
				}
			}
			break
		}
		i = vEnd
	}
}

// treeKey identifies a path list by its backing array, so that the fixed
// lists a policy returns are split once.
type treeKey struct {
	first *string
	n     int
}

// tree returns the path tree of paths, from the cache when the same list
// was seen before. Lists that a policy builds per event (not the same
// backing array) are split each time and not cached.
func (s *Store) tree(paths []string) *pathTree {
	k := treeKey{&paths[0], len(paths)}
	if t, ok := s.trees.Load(k); ok {
		t := t.(*pathTree)
		if slices.Equal(t.src, paths) {
			return t
		}
	}
	t := newPathTree(paths)
	if s.cached.Add(1) <= maxTrees {
		s.trees.Store(k, t)
	}
	return t
}

// maxTrees bounds the path trees cached (a policy has one list per event
// type).
const maxTrees = 256
