package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"

	"waystation/domain"
)

// The languages of the console, the first the default.
var languages = []string{"zh-CN", "en"}

// langCookie keeps the language a user chose with the switch.
const langCookie = "waystation_lang"

//go:embed messages
var messageFiles embed.FS

// catalogue is every message of one language, by key.
type catalogue map[string]string

// loadCatalogues reads the catalogue of every language: the JSON objects
// of messages/LANG/*.json, one file per part of the console. A key in two
// files is an error.
func loadCatalogues() (map[string]catalogue, error) {
	out := map[string]catalogue{}
	for _, l := range languages {
		files, err := fs.Glob(messageFiles, "messages/"+l+"/*.json")
		if err != nil {
			return nil, err
		}
		c := catalogue{}
		for _, f := range files {
			b, err := messageFiles.ReadFile(f)
			if err != nil {
				return nil, err
			}
			var part map[string]string
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("console: %s: %w", f, err)
			}
			for k, v := range part {
				if _, dup := c[k]; dup {
					return nil, fmt.Errorf("console: %s: key %q is in another file too", f, k)
				}
				c[k] = v
			}
		}
		out[l] = c
	}
	return out, nil
}

var matcher = language.NewMatcher([]language.Tag{language.SimplifiedChinese, language.English})

// chooseLanguage picks the language of r: ?lang= first, then the cookie
// the switch set, then Accept-Language, then Chinese.
func chooseLanguage(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); slices.Contains(languages, l) {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(languages, c.Value) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, i, conf := matcher.Match(tags...)
			if conf != language.No && i == 1 {
				return "en"
			}
		}
	}
	return languages[0]
}

// tr translates for one request.
type tr struct {
	lang string
	c    catalogue
	// missing collects the keys asked for and not found (tests fail on
	// any).
	missing func(key string)
}

// T returns the message of key, or the key itself in brackets when the
// catalogue lacks it.
func (t tr) T(key string) string {
	if m, ok := t.c[key]; ok {
		return m
	}
	if t.missing != nil {
		t.missing(key)
	}
	return "[" + key + "]"
}

// F formats the message of key with args (fmt verbs in the message).
func (t tr) F(key string, args ...any) string { return fmt.Sprintf(t.T(key), args...) }

// Has reports whether key has a message.
func (t tr) Has(key string) bool { _, ok := t.c[key]; return ok }

// Maybe returns the message of key, or fallback when there is none.
func (t tr) Maybe(key, fallback string) string {
	if m, ok := t.c[key]; ok {
		return m
	}
	return fallback
}

// Time formats a moment in Beijing time as people write it.
func (t tr) Time(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	at = at.In(domain.CivilZone)
	if t.lang == "en" {
		return at.Format("2 Jan 2006 15:04")
	}
	return fmt.Sprintf("%d年%d月%d日 %02d:%02d", at.Year(), int(at.Month()), at.Day(), at.Hour(), at.Minute())
}

// Date formats a civil date.
func (t tr) Date(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	at = at.In(domain.CivilZone)
	if t.lang == "en" {
		return at.Format("2 Jan 2006")
	}
	return fmt.Sprintf("%d年%d月%d日", at.Year(), int(at.Month()), at.Day())
}

// Duration tells how long d is in days and hours, as a board shows it.
func (t tr) Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	switch {
	case days > 0:
		return t.F("duration.days_hours", days, hours)
	case hours > 0:
		return t.F("duration.hours", hours)
	}
	return t.F("duration.minutes", int(d/time.Minute))
}

// Enum translates the value of an enumerated type: the key is kind.value.
func (t tr) Enum(kind string, value any) string {
	v := fmt.Sprint(value)
	if v == "" {
		return ""
	}
	return t.T(kind + "." + v)
}

// htmlLang is the value of the page's lang attribute.
func (t tr) htmlLang() string { return t.lang }

// other is the language the switch offers.
func (t tr) other() string {
	if t.lang == "en" {
		return "zh-CN"
	}
	return "en"
}

// keyOf turns a field path (person.contacts.0.name) into its catalogue
// key (field.person.contacts.name).
func keyOf(path string) string {
	parts := strings.Split(path, ".")
	out := parts[:0]
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") == "" || p == "*" {
			continue
		}
		out = append(out, p)
	}
	return "field." + strings.Join(out, ".")
}

// Bed names a bed as people say it: the number of a bed named zone-n
// (domain.BedName), as "3号床" or "Bed 3"; any other name as it is.
func (t tr) Bed(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || strings.Trim(name[i+1:], "0123456789") != "" || i == len(name)-1 {
		return name
	}
	return t.F("bed.number", name[i+1:])
}
