package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// ConsoleConfig says how to measure the web console of a running server:
// where it is, an admin token, and how many times each page is asked for.
type ConsoleConfig struct {
	BaseURL    string
	AdminToken string
	// Rounds is how many times each page is asked for, one after another.
	Rounds int
}

// ConsolePage is what one page measured: the server's time to answer it
// as a browser on the same machine sees it (the request sent to the last
// byte read), and its weight.
type ConsolePage struct {
	Page string `json:"page"`
	Latencies
	// Bytes is the page's HTML, uncompressed; WeightBytes adds the
	// stylesheet and the script it loads (no image, no font: a page loads
	// nothing else).
	Bytes       int `json:"bytes"`
	WeightBytes int `json:"weight_bytes"`
}

// ConsoleReport is what `waystation bench console` prints.
type ConsoleReport struct {
	Station string        `json:"station"`
	Region  string        `json:"region"`
	Cases   int           `json:"cases_at_station"`
	Rounds  int           `json:"rounds"`
	Pages   []ConsolePage `json:"pages"`
	// WorstP99Ms and HeaviestBytes are the slowest page's p99 and the
	// heaviest page's weight.
	WorstP99Ms    float64 `json:"worst_p99_ms"`
	HeaviestBytes int     `json:"heaviest_weight_bytes"`
}

// Console logs in to the console of the server at cfg.BaseURL as staff of
// its busiest station and as a coordinator of that station's region (both
// accounts created with the admin token) and asks for every page of
// theirs cfg.Rounds times, measuring each answer.
func Console(ctx context.Context, cfg ConsoleConfig) (ConsoleReport, error) {
	if cfg.Rounds < 1 {
		return ConsoleReport{}, errors.New("bench console: rounds must be at least 1")
	}
	c := consoleClient{base: strings.TrimRight(cfg.BaseURL, "/"), admin: cfg.AdminToken}
	if err := c.ready(ctx); err != nil {
		return ConsoleReport{}, err
	}
	station, region, caseID, cases, err := c.busiestStation(ctx)
	if err != nil {
		return ConsoleReport{}, err
	}
	staff, err := c.person(ctx, "bench.staff", "staff", station, "")
	if err != nil {
		return ConsoleReport{}, err
	}
	coord, err := c.person(ctx, "bench.coordinator", "coordinator", "", region)
	if err != nil {
		return ConsoleReport{}, err
	}
	assets := 0
	for _, a := range []string{"/static/app.css", "/static/app.js"} {
		b, err := c.get(ctx, staff, a)
		if err != nil {
			return ConsoleReport{}, err
		}
		assets += len(b)
	}
	pages := []struct {
		who  *http.Client
		page string
		form url.Values
	}{
		{staff, "/", nil},
		{staff, "/board", nil},
		{staff, "/worklist", nil},
		{staff, "/safety", nil},
		{staff, "/cases/new", nil},
		{staff, "/cases", nil},
		{staff, "/cases", url.Values{"q": {"P1"}}},
		{staff, "/cases/" + caseID, nil},
		{staff, "/cases/" + caseID + "/steps/bed", nil},
		{staff, "/cases/" + caseID + "/forms/intake-register", nil},
		{staff, "/stats", nil},
		{coord, "/regions/" + region, nil},
		{coord, "/regions/" + region + "/transfers", nil},
	}
	rep := ConsoleReport{Station: station, Region: region, Cases: cases, Rounds: cfg.Rounds}
	for _, p := range pages {
		name := p.page
		if p.form != nil {
			name = "POST " + name
		}
		var lat []time.Duration
		size := 0
		for range cfg.Rounds {
			start := time.Now()
			var b []byte
			if p.form != nil {
				b, err = c.post(ctx, p.who, p.page, p.form)
			} else {
				b, err = c.get(ctx, p.who, p.page)
			}
			if err != nil {
				return rep, fmt.Errorf("bench console: %s: %w", name, err)
			}
			lat = append(lat, time.Since(start))
			size = len(b)
		}
		cp := ConsolePage{Page: name, Latencies: SummarizeLatencies(lat), Bytes: size, WeightBytes: size + assets}
		rep.Pages = append(rep.Pages, cp)
		rep.WorstP99Ms = max(rep.WorstP99Ms, cp.P99Ms)
		rep.HeaviestBytes = max(rep.HeaviestBytes, cp.WeightBytes)
	}
	return rep, nil
}

// consoleClient is the benchmark's view of the server: the admin's API
// calls and the people's browsers.
type consoleClient struct {
	base, admin string
}

// api calls the JSON API as the admin and decodes a 2xx answer into out.
func (c consoleClient) api(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d", method, path, res.StatusCode)
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// readyWait bounds the wait for a server whose views are still folding a
// long log after its start.
const readyWait = 10 * time.Minute

// ready waits until /readyz answers 200: measuring a server still folding
// its log would measure the wait.
func (c consoleClient) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/readyz", nil)
		if err != nil {
			return err
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench console: the server was not ready within %s: %w", readyWait, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// busiestStation returns the station with the most people in a bed, its
// region, one of them (or any case of the station when none is) and how
// many they are.
func (c consoleClient) busiestStation(ctx context.Context) (station, region, caseID string, cases int, err error) {
	var list struct {
		Items []struct {
			Code   string `json:"code"`
			Region string `json:"region"`
		} `json:"items"`
	}
	if err := c.api(ctx, "GET", "/v1/stations", nil, &list); err != nil {
		return "", "", "", 0, err
	}
	for _, st := range list.Items {
		var occ struct {
			Residents []struct {
				CaseID string `json:"case_id"`
			} `json:"residents"`
		}
		if err := c.api(ctx, "GET", "/v1/stations/"+url.PathEscape(st.Code)+"/occupancy", nil, &occ); err != nil {
			return "", "", "", 0, err
		}
		if station == "" || len(occ.Residents) > cases {
			station, region, cases = st.Code, st.Region, len(occ.Residents)
			if len(occ.Residents) > 0 {
				caseID = occ.Residents[0].CaseID
			}
		}
	}
	if station == "" {
		return "", "", "", 0, errors.New("bench console: the store has no station")
	}
	if caseID == "" {
		// Nobody is in a bed (a generated log ends with every case
		// finished): any case of the station will do.
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		q := url.Values{"station": {station}, "limit": {"1"}}
		if err := c.api(ctx, "GET", "/v1/cases?"+q.Encode(), nil, &page); err != nil {
			return "", "", "", 0, err
		}
		if len(page.Items) == 0 {
			return "", "", "", 0, errors.New("bench console: the store has no case")
		}
		caseID = page.Items[0].ID
	}
	return station, region, caseID, cases, nil
}

// benchPassword is the password of the benchmark's accounts.
const benchPassword = "bench console password"

// person creates, activates and logs in an account of role, and returns
// its browser.
func (c consoleClient) person(ctx context.Context, username, role, station, region string) (*http.Client, error) {
	body := map[string]string{"username": username, "name": username, "role": role}
	if station != "" {
		body["station"] = station
	}
	if region != "" {
		body["region"] = region
	}
	var created struct {
		Code string `json:"activation_code"`
	}
	if err := c.api(ctx, "POST", "/v1/accounts", body, &created); err != nil {
		// A store measured before has the account: a reset gives it a
		// new activation code.
		id, lerr := c.accountID(ctx, username)
		if lerr != nil || id == "" {
			return nil, fmt.Errorf("bench console: creating %s: %w", username, err)
		}
		if err := c.api(ctx, "POST", "/v1/accounts/"+id+"/reset", nil, &created); err != nil {
			return nil, fmt.Errorf("bench console: resetting %s: %w", username, err)
		}
	}
	if err := c.api(ctx, "POST", "/v1/accounts/activate", map[string]string{
		"username": username, "activation_code": created.Code, "password": benchPassword}, nil); err != nil {
		return nil, fmt.Errorf("bench console: activating %s: %w", username, err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	if _, err := c.post(ctx, browser, "/login", url.Values{"username": {username}, "password": {benchPassword}}); err != nil {
		return nil, fmt.Errorf("bench console: logging in %s: %w", username, err)
	}
	return browser, nil
}

// accountID returns the ID of the account username, or "".
func (c consoleClient) accountID(ctx context.Context, username string) (string, error) {
	var list struct {
		Items []struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"items"`
	}
	if err := c.api(ctx, "GET", "/v1/accounts", nil, &list); err != nil {
		return "", err
	}
	for _, a := range list.Items {
		if a.Username == username {
			return a.ID, nil
		}
	}
	return "", nil
}

func (c consoleClient) get(ctx context.Context, browser *http.Client, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return nil, err
	}
	return c.do(browser, req)
}

func (c consoleClient) post(ctx context.Context, browser *http.Client, path string, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(browser, req)
}

// do sends req and reads the whole answer; a page that is not 200 (after
// redirects) is an error.
func (c consoleClient) do(browser *http.Client, req *http.Request) ([]byte, error) {
	req.Header.Set("Accept-Language", "zh-CN")
	res, err := browser.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d at %s", res.StatusCode, res.Request.URL.Path)
	}
	return b, nil
}
