// Package sourcetest reads Go source for tests that check a list kept in
// code against the declarations it must match.
package sourcetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
)

// TypedStringConstants returns the string constants that the non-test Go
// files of dir declare with an explicit type, by type name, in source
// order. It fails when dir holds no Go file or one does not parse.
func TypedStringConstants(dir string) (map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	read := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		read++
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				typ, ok := vs.Type.(*ast.Ident)
				if !ok {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, err := strconv.Unquote(lit.Value)
						if err != nil {
							return nil, err
						}
						out[typ.Name] = append(out[typ.Name], s)
					}
				}
			}
		}
	}
	if read == 0 {
		return nil, &noSourceError{dir}
	}
	return out, nil
}

type noSourceError struct{ dir string }

func (e *noSourceError) Error() string { return "sourcetest: no Go source in " + e.dir }
