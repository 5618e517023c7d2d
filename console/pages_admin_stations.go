package console

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"waystation/domain"
	"waystation/projections"
)

// The stations and their zones: the forms are the domain's commands
// (RegisterStation, ChangeZones, as POST /v1/stations and
// POST /v1/stations/{code}/zones declare their bodies).

var (
	registerStationType = reflect.TypeFor[domain.RegisterStation]()
	changeZonesType     = reflect.TypeFor[domain.ChangeZones]()
)

// zoneRows is how many zone rows a station's form offers: one for each
// zone the domain knows.
var zoneRows = len(domain.Zone("").Values())

// stationLabels are the labels of the station form that read otherwise on
// a station than on a person (a station's name is not a person's).
var stationLabels = map[string]string{"name": "admin.station.name", "region": "admin.station.region"}

// stationFields returns the inputs of command t with a row for every zone;
// the legal ground of processing personal data has no place on a station.
func stationFields(t reflect.Type) []field {
	var head, row []field
	for _, f := range fieldsOf(t) {
		if k, ok := stationLabels[f.Path]; ok {
			f.Key = k
		}
		switch {
		case f.Path == "legal_basis":
		case strings.HasPrefix(f.Path, "zones.0."):
			row = append(row, f)
		case strings.HasPrefix(f.Path, "zones."):
		default:
			head = append(head, f)
		}
	}
	for n := range zoneRows {
		for _, f := range row {
			f.Path = "zones." + strconv.Itoa(n) + "." + strings.TrimPrefix(f.Path, "zones.0.")
			head = append(head, f)
		}
	}
	return head
}

// stationsPage lists the stations with their zones, and the form that
// registers one.
type stationsPage struct {
	Stations []projections.StationInfo
	Fields   []field
	Key      string
	Message  string
	Rule     string
	Accounts map[string]int // accounts bound to each station
	Done     string         // the code of the station just registered
	Changed  string         // the code of the station whose zones just changed
}

func (c *Console) adminStations(q *req) error {
	p := stationsPage{Fields: stationFields(registerStationType), Key: idempotencyKey(),
		Done: q.r.URL.Query().Get("registered"), Changed: q.r.URL.Query().Get("changed")}
	return c.showStations(q, http.StatusOK, p)
}

func (c *Console) showStations(q *req, status int, p stationsPage) error {
	// The accounts are an admin's to list: anyone else sees the API's
	// refusal here, though every role may list the stations.
	var accs accountList
	if _, err := c.api.call(q.r, "GET", "/v1/accounts", nil, nil, &accs); err != nil {
		return err
	}
	sts, err := c.stationList(q)
	if err != nil {
		return err
	}
	p.Stations, p.Accounts = sts, map[string]int{}
	for _, a := range accs.Items {
		if a.Station != "" && a.State != domain.AccountStateDisabled {
			p.Accounts[a.Station]++
		}
	}
	c.render(q, status, "admin_stations", "admin.stations.title", p)
	return nil
}

// registerStation registers a station from its form (POST /v1/stations).
func (c *Console) registerStation(q *req) error {
	if err := parseForm(q); err != nil {
		return err
	}
	v := q.r.PostForm
	p := stationsPage{Fields: stationFields(registerStationType), Key: formKey(v)}
	fill(p.Fields, v)
	body, err := bodyOf(registerStationType, p.Fields, v)
	if err == nil {
		hdr := http.Header{"Idempotency-Key": {p.Key}}
		_, err = c.api.callWith(q.r.Context(), q.r, hdr, "POST", "/v1/stations", nil, body, nil)
	}
	if err != nil {
		status := c.refused(q, err, p.Fields, &p.Message, &p.Rule)
		if status == 0 {
			return err
		}
		return c.showStations(q, status, p)
	}
	code, _ := body["code"].(string)
	http.Redirect(q.w, q.r, "/admin/stations?registered="+url.QueryEscape(code), http.StatusSeeOther)
	return nil
}

// formKey is the idempotency key a form carries, or a fresh one.
func formKey(v url.Values) string {
	if k := v.Get("idempotency_key"); k != "" {
		return k
	}
	return idempotencyKey()
}

// zonesPage is a station's zones as a form: every zone it keeps, with its
// beds, and empty rows for the zones it could add.
type zonesPage struct {
	Station projections.StationInfo
	Fields  []field
	Key     string
	Message string
	Rule    string
}

func (c *Console) station(q *req) (projections.StationInfo, error) {
	var s projections.StationInfo
	_, err := c.api.call(q.r, "GET", "/v1/stations/"+url.PathEscape(q.r.PathValue("code")), nil, nil, &s)
	return s, err
}

func (c *Console) zonesPage(q *req) error {
	// As on the stations' list: the admin's question first.
	if _, err := c.api.call(q.r, "GET", "/v1/accounts", nil, nil, nil); err != nil {
		return err
	}
	s, err := c.station(q)
	if err != nil {
		return err
	}
	p := zonesPage{Station: s, Fields: stationFields(changeZonesType), Key: idempotencyKey()}
	v := url.Values{}
	for i, z := range s.Zones {
		row := "zones." + strconv.Itoa(i) + "."
		v.Set(row+"zone", string(z.Zone))
		v.Set(row+"beds", strconv.Itoa(z.Beds))
		if z.Seasonal > 0 {
			v.Set(row+"seasonal", strconv.Itoa(z.Seasonal))
		}
	}
	fill(p.Fields, v)
	c.render(q, http.StatusOK, "admin_zones", "admin.zones.title", p)
	return nil
}

// changeZones replaces the station's zones with those of the form
// (POST /v1/stations/{code}/zones); a refusal (an occupied bed would go)
// is shown on the form.
func (c *Console) changeZones(q *req) error {
	if err := parseForm(q); err != nil {
		return err
	}
	v := q.r.PostForm
	s, err := c.station(q)
	if err != nil {
		return err
	}
	p := zonesPage{Station: s, Fields: stationFields(changeZonesType), Key: formKey(v)}
	fill(p.Fields, v)
	body, err := bodyOf(changeZonesType, p.Fields, v)
	if err == nil {
		if _, ok := body["zones"]; !ok {
			body["zones"] = []any{}
		}
		hdr := http.Header{"Idempotency-Key": {p.Key}}
		_, err = c.api.callWith(q.r.Context(), q.r, hdr, "POST", "/v1/stations/"+url.PathEscape(s.Code)+"/zones",
			nil, body, nil)
	}
	if err != nil {
		status := c.refused(q, err, p.Fields, &p.Message, &p.Rule)
		if status == 0 {
			return err
		}
		c.render(q, status, "admin_zones", "admin.zones.title", p)
		return nil
	}
	http.Redirect(q.w, q.r, "/admin/stations?changed="+url.QueryEscape(s.Code), http.StatusSeeOther)
	return nil
}
