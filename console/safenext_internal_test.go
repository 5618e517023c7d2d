package console

import "testing"

func TestOnlyAPathOfTheConsoleIsFollowedAfterTheLogin(t *testing.T) {
	for next, want := range map[string]string{
		"/cases/new": "/cases/new",
		"/cases/01a2376d-e4d1-7980-a66d-c41675edec0f": "/cases/01a2376d-e4d1-7980-a66d-c41675edec0f",
		"/regions/R1/transfers":                       "/regions/R1/transfers",
		"":                                            "/",
		"//evil.example/x":                            "/",
		"/\t/evil.example":                            "/",
		"/%2F/evil.example":                           "/",
		"/\\evil.example":                             "/",
		"https://evil.example":                        "/",
		"/cases?q=张三":                                 "/",
		"/x#frag":                                     "/",
		"/\x00":                                       "/",
		"evil.example":                                "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
