package http

import (
	"context"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"waystation/domain"
	"waystation/projections"
)

// Public family-search notices and leads: no login. What the public reads
// is only what a notice shows (projections.PublicNotice); what it sends is
// a lead, bounded by size and by rate per address and per notice, with a
// wait that doubles with every lead an address sent lately, so a flood
// costs its sender more and more while the log grows only by what is
// accepted (a refused lead writes nothing).

// publicViews reads the public notices; RunnerViews has it.
type publicViews interface {
	PublicNotices(ctx context.Context, q projections.NoticeQuery) (projections.NoticePage, error)
	PublicNoticeOf(ctx context.Context, id uuid.UUID) (projections.PublicNotice, uuid.UUID, uuid.UUID, bool)
}

// noticeService records leads and reads photos; *domain.Service has it.
type noticeService interface {
	ReceiveLead(ctx context.Context, caseID, noticeID uuid.UUID, in domain.LeadInput) (domain.LeadReceived, error)
	Photo(ctx context.Context, caseID, id uuid.UUID) ([]byte, string, error)
	AttachPhoto(ctx context.Context, actor domain.Actor, caseID uuid.UUID, raw []byte) (domain.PhotoAttached, error)
}

// PublicNotices answers from the runner.
func (v RunnerViews) PublicNotices(ctx context.Context, q projections.NoticeQuery) (projections.NoticePage, error) {
	if err := v.caughtUp(ctx); err != nil {
		return projections.NoticePage{}, err
	}
	return v.Runner.PublicNotices(q)
}

// PublicNoticeOf answers from the runner.
func (v RunnerViews) PublicNoticeOf(ctx context.Context, id uuid.UUID) (projections.PublicNotice, uuid.UUID, uuid.UUID, bool) {
	if v.caughtUp(ctx) != nil {
		return projections.PublicNotice{}, uuid.Nil, uuid.Nil, false
	}
	return v.Runner.PublicNoticeOf(id)
}

// Limits of the leads.
const (
	// MaxLeadBody is the largest lead body taken.
	MaxLeadBody = 16 << 10
	// leadsPerNoticePerDay is the most leads one notice takes in a day.
	leadsPerNoticePerDay = 50
	// leadsPerAddressPerDay is the most leads one address sends in a day.
	leadsPerAddressPerDay = 10
	// leadBaseWait is the wait after an address's first lead; it doubles
	// with each further lead within a day.
	leadBaseWait = 30 * time.Second
	// maxTracked bounds the limiter's memory.
	maxTracked = 100_000
)

// leadLimiter keeps, per address and per notice, the times of the leads
// accepted within the last day.
type leadLimiter struct {
	mu      sync.Mutex
	address map[string][]time.Time    // guarded by mu
	notice  map[uuid.UUID][]time.Time // guarded by mu
}

// leadLimiters holds each Server's leadLimiter, so that servers (tests)
// in one process do not share their counts.
var leadLimiters sync.Map // *Server → *leadLimiter

func (s *Server) leadLimits() *leadLimiter {
	l, _ := leadLimiters.LoadOrStore(s, &leadLimiter{address: map[string][]time.Time{}, notice: map[uuid.UUID][]time.Time{}})
	return l.(*leadLimiter)
}

func recent(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > 24*time.Hour {
		i++
	}
	return ts[i:]
}

// allow reports how long the address must wait before its lead on notice
// is taken (0: take it now, and count it).
func (l *leadLimiter) allow(addr string, notice uuid.UUID, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := recent(l.address[addr], now)
	n := recent(l.notice[notice], now)
	if len(a) >= leadsPerAddressPerDay {
		return a[0].Add(24 * time.Hour).Sub(now)
	}
	if len(n) >= leadsPerNoticePerDay {
		return n[0].Add(24 * time.Hour).Sub(now)
	}
	if len(a) > 0 {
		wait := leadBaseWait * time.Duration(math.Pow(2, float64(len(a)-1)))
		if d := a[len(a)-1].Add(wait).Sub(now); d > 0 {
			return d
		}
	}
	if len(l.address) > maxTracked || len(l.notice) > maxTracked {
		l.address, l.notice = map[string][]time.Time{}, map[uuid.UUID][]time.Time{}
	}
	l.address[addr] = append(a, now)
	l.notice[notice] = append(n, now)
	return 0
}

// forget removes the last lead counted for addr and notice (it was refused).
func (l *leadLimiter) forget(addr string, notice uuid.UUID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a := l.address[addr]; len(a) > 0 {
		l.address[addr] = a[:len(a)-1]
	}
	if n := l.notice[notice]; len(n) > 0 {
		l.notice[notice] = n[:len(n)-1]
	}
}

// leadAnswer is what the sender of a lead is given.
type leadAnswer struct {
	Receipt  string    `json:"receipt" doc:"The receipt number: quote it when you call the station."`
	NoticeID uuid.UUID `json:"notice_id" doc:"The notice the lead is about."`
}

func (s *Server) publicRoutes() []route {
	noticePath := param{Name: "id", In: "path", Format: "uuid", Desc: "the notice ID"}
	return []route{
		{
			Method: "GET", Path: "/v1/public/notices", ID: "publicNotices",
			Summary: "Family-search notices public now, newest first (no login): only what each notice shows.",
			Public:  true, Status: 200, Reply: reflect.TypeFor[projections.NoticePage](), handle: s.publicNotices,
			Params: []param{
				{Name: "sex", In: "query", Enum: domain.Sex("").Values(), Desc: "only this sex"},
				{Name: "age_band", In: "query", Enum: projections.AgeBands, Desc: "only this age band"},
				{Name: "region", In: "query", Desc: "only this region (a code)"},
				{Name: "found_from", In: "query", Desc: "found on or after this date (YYYY-MM-DD)"},
				{Name: "found_to", In: "query", Desc: "found on or before this date (YYYY-MM-DD)"},
				limitQuery,
				{Name: "cursor", In: "query", Desc: "the previous page's next_cursor"},
			},
		},
		{
			Method: "GET", Path: "/v1/public/notices/{id}", ID: "publicNotice",
			Summary: "One public family-search notice (no login).",
			Public:  true, Params: []param{noticePath}, Status: 200,
			Reply: reflect.TypeFor[projections.PublicNotice](), handle: s.publicNotice,
		},
		{
			Method: "GET", Path: "/v1/public/notices/{id}/photo", ID: "publicNoticePhoto",
			Summary: "The photo a public notice shows, while it is public (no login).",
			Public:  true, Params: []param{noticePath}, Status: 200, ReplyMedia: "image/jpeg",
			handle: s.publicNoticePhoto,
		},
		{
			Method: "POST", Path: "/v1/public/notices/{id}/leads", ID: "sendLead",
			Summary: "Tell the station something about a public notice (no login): recorded on the case, " +
				"the sender's details sealed, and answered with a receipt number. Limited per address and " +
				"per notice (429 with Retry-After).",
			Public: true, Params: []param{noticePath}, Body: reflect.TypeFor[domain.LeadInput](), Status: 201,
			Reply: reflect.TypeFor[leadAnswer](), handle: s.sendLead,
		},
		{
			Method: "POST", Path: "/v1/cases/{id}/photos", ID: "attachPhoto",
			Summary: "Attach a photo to a case: the body is the image (image/jpeg or image/png, at most 2 MB); " +
				"it is checked, encoded again without EXIF or location, and stored sealed.",
			Roles: stepRoles, Params: []param{caseIDPath}, Status: 201,
			Reply: reflect.TypeFor[domain.PhotoAttached](), handle: s.attachPhoto,
		},
	}
}

func (s *Server) publicViews() (publicViews, noticeService, error) {
	pv, ok1 := s.cfg.Views.(publicViews)
	ns, ok2 := s.cfg.Service.(noticeService)
	if !ok1 || !ok2 {
		return nil, nil, domain.NotFound("public notices are not served here")
	}
	return pv, ns, nil
}

// publicNotices serves GET /v1/public/notices.
func (s *Server) publicNotices(w http.ResponseWriter, r *http.Request) error {
	pv, _, err := s.publicViews()
	if err != nil {
		return err
	}
	v := r.URL.Query()
	q := projections.NoticeQuery{Sex: domain.Sex(v.Get("sex")), AgeBand: v.Get("age_band"), Region: v.Get("region")}
	if q.Sex != "" && !q.Sex.Valid() {
		return domain.Invalid("sex", "sex must be male or female")
	}
	if q.AgeBand != "" && !contains(projections.AgeBands, q.AgeBand) {
		return domain.Invalid("age_band", "unknown age band")
	}
	if len(q.Region) > 32 {
		return domain.Invalid("region", "region is a code")
	}
	for _, d := range []struct {
		name string
		to   *domain.Date
	}{{"found_from", &q.FoundFrom}, {"found_to", &q.FoundTo}} {
		if s := v.Get(d.name); s != "" {
			if *d.to, err = domain.ParseDate(s); err != nil {
				return domain.Invalid(d.name, "%s must be a date (YYYY-MM-DD)", d.name)
			}
		}
	}
	if l := v.Get("limit"); l != "" {
		if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 1 || q.Limit > 100 {
			return domain.Invalid("limit", "limit must be 1 to 100")
		}
	}
	if c := v.Get("cursor"); c != "" {
		if q.Offset, err = strconv.Atoi(c); err != nil || q.Offset < 0 || q.Offset > 1_000_000 {
			return domain.Invalid("cursor", "not a cursor of this list")
		}
	}
	page, err := pv.PublicNotices(r.Context(), q)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, page)
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// noticeOf reads the public notice of the path.
func (s *Server) noticeOf(r *http.Request) (projections.PublicNotice, uuid.UUID, uuid.UUID, error) {
	pv, _, err := s.publicViews()
	if err != nil {
		return projections.PublicNotice{}, uuid.Nil, uuid.Nil, err
	}
	id, err := uuid.Parse(mux.Vars(r)["id"])
	if err != nil {
		return projections.PublicNotice{}, uuid.Nil, uuid.Nil, domain.NotFound("no such notice")
	}
	n, caseID, photo, ok := pv.PublicNoticeOf(r.Context(), id)
	if !ok {
		return projections.PublicNotice{}, uuid.Nil, uuid.Nil, domain.NotFound("no such notice")
	}
	return n, caseID, photo, nil
}

// publicNotice serves GET /v1/public/notices/{id}.
func (s *Server) publicNotice(w http.ResponseWriter, r *http.Request) error {
	n, _, _, err := s.noticeOf(r)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, n)
	return nil
}

// publicNoticePhoto serves GET /v1/public/notices/{id}/photo.
func (s *Server) publicNoticePhoto(w http.ResponseWriter, r *http.Request) error {
	_, caseID, photo, err := s.noticeOf(r)
	if err != nil {
		return err
	}
	if photo == uuid.Nil {
		return domain.NotFound("the notice shows no photo")
	}
	_, ns, _ := s.publicViews()
	img, ctype, err := ns.Photo(r.Context(), caseID, photo)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(img)
	return nil
}

// sendLead serves POST /v1/public/notices/{id}/leads.
func (s *Server) sendLead(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxLeadBody)
	body, err := readBody(w, r)
	if err != nil {
		if domain.ErrorCode(err) == CodePayloadTooLarge || r.ContentLength > MaxLeadBody {
			return errorf(CodePayloadTooLarge, "", "a lead is at most 16 KiB")
		}
		return err
	}
	var in domain.LeadInput
	if err := DecodeStrict(body, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	_, caseID, _, err := s.noticeOf(r)
	if err != nil {
		return err
	}
	noticeID := uuid.MustParse(mux.Vars(r)["id"])
	addr := clientAddress(r)
	if wait := s.leadLimits().allow(addr, noticeID, s.now()); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return errorf(CodeTooManyRequests, "", "too many leads lately; try again later or call the station")
	}
	_, ns, _ := s.publicViews()
	lead, err := ns.ReceiveLead(r.Context(), caseID, noticeID, in)
	if err != nil {
		s.leadLimits().forget(addr, noticeID)
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, leadAnswer{Receipt: lead.Receipt, NoticeID: noticeID})
	return nil
}

// attachPhoto serves POST /v1/cases/{id}/photos.
func (s *Server) attachPhoto(w http.ResponseWriter, r *http.Request) error {
	_, ns, err := s.publicViews()
	if err != nil {
		return err
	}
	id, err := uuid.Parse(mux.Vars(r)["id"])
	if err != nil {
		return domain.NotFound("no such case")
	}
	switch r.Header.Get("Content-Type") {
	case "image/jpeg", "image/png":
	default:
		return errorf(CodeUnsupportedMediaType, "", "a photo is sent as image/jpeg or image/png")
	}
	raw, err := readAll(http.MaxBytesReader(w, r.Body, domain.MaxPhotoBytes), r.ContentLength)
	if err != nil {
		return errorf(CodePayloadTooLarge, "", "a photo is at most 2 MB")
	}
	p, err := ns.AttachPhoto(r.Context(), actorOf(r), id, raw)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, p)
	return nil
}
