package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Client is a minimal JSON client of the API, for the tools that drive a
// running server (the load run, the demo seed).
type Client struct {
	// BaseURL is the server's address, such as http://127.0.0.1:8080.
	BaseURL string
	// HTTP is the client that sends the requests; nil is
	// http.DefaultClient.
	HTTP *http.Client
}

// ClientError is the answer of a request whose status was not the one
// wanted. Problem holds the problem document when the server sent one.
type ClientError struct {
	Method, Path string
	Status       int
	Problem      Problem
}

// Error names the request, the status, and the problem's code and rule; it
// never repeats the request's or the answer's values.
func (e *ClientError) Error() string {
	msg := fmt.Sprintf("%s %s: status %d", e.Method, e.Path, e.Status)
	if e.Problem.Code != "" {
		msg += " " + string(e.Problem.Code)
	}
	if e.Problem.Rule != "" {
		msg += " " + e.Problem.Rule
	}
	return msg
}

// Do sends body (none when nil) to path with the bearer token, as JSON, and
// returns the answer's body. An answer with another status than want is a
// *ClientError (with the body too); a transport failure is returned as it
// is, with a nil body.
func (c *Client) Do(ctx context.Context, token, method, path string, body []byte, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		ce := &ClientError{Method: method, Path: path, Status: resp.StatusCode}
		_ = json.Unmarshal(b, &ce.Problem)
		return b, ce
	}
	return b, nil
}
