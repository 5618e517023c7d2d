package http

import (
	"reflect"

	"waystation/domain"
	"waystation/exchange"
	"waystation/projections"
)

var (
	allRoles = []domain.Role{
		domain.RoleAdmin, domain.RoleStaff, domain.RoleCoordinator, domain.RoleInspector,
	}
	admins     = []domain.Role{domain.RoleAdmin}
	logReaders = []domain.Role{domain.RoleAdmin, domain.RoleInspector}
	stepRoles  = []domain.Role{domain.RoleAdmin, domain.RoleStaff, domain.RoleCoordinator}
	atParams   = []param{
		{
			Name: "at", In: "query", Format: "date-time",
			Desc: "show the board as it was at this time (by when things happened)",
		},
		{Name: "known", In: "query", Format: "boolean", Desc: "with at: only what had been recorded by then"},
		positionQuery,
	}
	positionQuery = param{
		Name: "position", In: "query",
		Desc: "instead of at: the log as it stood right after the event at this position " +
			"(as GET /v1/events shows positions), evaluated now",
	}
	stationQuery = param{
		Name: "station", In: "query", Desc: "only this station (a code); staff may only ask for their own",
	}
	regionQuery = param{Name: "region", In: "query", Desc: "only this region (a code), not with station"}
	limitQuery  = param{Name: "limit", In: "query", Format: "integer", Desc: "the most items in one page"}
	afterQuery  = param{
		Name: "after", In: "query",
		Desc: "read on after this position (as the previous page's next_after gives it)",
	}
	caseIDPath  = param{Name: "id", In: "path", Format: "uuid", Desc: "the case ID"}
	accountPath = param{Name: "id", In: "path", Desc: "the account ID"}
	stationPath = param{Name: "code", In: "path", Desc: "the station code"}
)

// param is a path or query parameter of a route.
type param struct {
	Name, In, Desc string
	Format         string // "date-time", "integer", or "" for a string
	Enum           []string
}

// route is one entry of the route table: the router and the OpenAPI
// description are both generated from it.
type route struct {
	Method, Path, ID, Summary string
	Public                    bool          // no bearer token needed
	Roles                     []domain.Role // who may call it; serve refuses the others
	Params                    []param
	Body                      reflect.Type // request body, nil for none
	BodyMedia                 string       // a request body that is a file of this media type (not JSON)
	Status                    int
	Reply                     reflect.Type          // answer body; nil is a free-form object
	ReplySchema               func() map[string]any // schema of an answer no Go type describes
	ReplyMedia                string                // answer media type when not application/json
	AltMedia                  []string              // further answer media types (files), chosen by Accept or format=
	Idempotent                bool                  // takes Idempotency-Key (and If-Match on cases)
	handle                    handlerFunc
}

// routeTable is every route of the API. The router and /openapi.json are
// both built from it.
func (s *Server) routeTable() []route {
	rt := []route{
		{
			Method: "GET", Path: "/healthz", ID: "healthz",
			Summary: "The process is alive.",
			Public:  true, Status: 200, Reply: reflect.TypeFor[health](), handle: s.healthz,
		},
		{
			Method: "GET", Path: "/readyz", ID: "readyz",
			Summary: "The store is open and the projections have caught up (else 503).",
			Public:  true, Status: 200, Reply: reflect.TypeFor[health](), handle: s.readyz,
		},
		{
			Method: "GET", Path: "/metrics", ID: "metrics",
			Summary: "Prometheus metrics (no personal data).",
			Public:  true, Status: 200, ReplyMedia: "text/plain", handle: s.metricsHandler(),
		},
		{
			Method: "GET", Path: "/openapi.json", ID: "openapi",
			Summary: "This description (OpenAPI 3.1).",
			Public:  true, Status: 200, ReplySchema: openAPIDocumentSchema, handle: s.openAPI,
		},

		{
			Method: "POST", Path: "/v1/tokens", ID: "issueToken",
			Summary: "Issue an access token; the token is shown once, only its hash is kept.",
			Roles:   admins, Body: reflect.TypeFor[tokenRequest](), Status: 201,
			Reply: reflect.TypeFor[issuedToken](), handle: s.issueToken,
		},
		{
			Method: "GET", Path: "/v1/tokens", ID: "listTokens",
			Summary: "List issued tokens (no secrets).",
			Roles:   admins, Status: 200, Reply: reflect.TypeFor[tokenList](), handle: s.listTokens,
		},
		{
			Method: "DELETE", Path: "/v1/tokens/{id}", ID: "revokeToken",
			Summary: "Revoke a token.",
			Roles:   admins, Params: []param{{Name: "id", In: "path", Desc: "the token ID"}}, Status: 200,
			Reply: reflect.TypeFor[domain.Token](), handle: s.revokeToken,
		},

		{
			Method: "POST", Path: "/v1/accounts", ID: "createAccount",
			Summary: "Create a person's account; the answer holds its activation code, shown once and valid 72 hours.",
			Roles:   admins, Body: reflect.TypeFor[accountRequest](), Status: 201,
			Reply: reflect.TypeFor[activation](), handle: s.createAccount,
		},
		{
			Method: "GET", Path: "/v1/accounts", ID: "listAccounts",
			Summary: "List every account (no secrets).",
			Roles:   admins, Status: 200, Reply: reflect.TypeFor[accountList](), handle: s.listAccounts,
		},
		{
			Method: "POST", Path: "/v1/accounts/activate", ID: "activateAccount",
			Summary: "Set the password of a new or reset account with its activation code.",
			Public:  true, Body: reflect.TypeFor[activateRequest](), Status: 204, handle: s.activateAccount,
		},
		{
			Method: "POST", Path: "/v1/accounts/{id}/reset", ID: "resetAccount",
			Summary: "Reset an account: its password and two-factor are cleared, its sessions end, and a new activation code is answered once.",
			Roles:   admins, Params: []param{accountPath}, Status: 200,
			Reply: reflect.TypeFor[activation](), handle: s.resetAccount,
		},
		{
			Method: "DELETE", Path: "/v1/accounts/{id}", ID: "disableAccount",
			Summary: "Disable an account: its sessions and live streams end at once.",
			Roles:   admins, Params: []param{accountPath}, Status: 200,
			Reply: reflect.TypeFor[domain.Account](), handle: s.disableAccount,
		},
		{
			Method: "POST", Path: "/v1/session", ID: "login",
			Summary: "Log in: a session cookie (HttpOnly, SameSite=Strict) for a right username, password and, where the account has two-factor, code.",
			Public:  true, Body: reflect.TypeFor[loginRequest](), Status: 204, handle: s.login,
		},
		{
			Method: "GET", Path: "/v1/session", ID: "currentSession",
			Summary: "The account and session of the session cookie.",
			Roles:   allRoles, Status: 200, Reply: reflect.TypeFor[sessionAnswer](), handle: s.currentSession,
		},
		{
			Method: "DELETE", Path: "/v1/session", ID: "logout",
			Summary: "Log out: the session ends.",
			Roles:   allRoles, Status: 204, handle: s.logout,
		},
		{
			Method: "POST", Path: "/v1/session/totp", ID: "offerTOTP",
			Summary: "Offer a new two-factor (TOTP) secret to the session's account, as a QR code; it counts once confirmed.",
			Roles:   allRoles, Status: 200, Reply: reflect.TypeFor[totpOffer](), handle: s.offerTOTP,
		},
		{
			Method: "POST", Path: "/v1/session/totp/confirm", ID: "confirmTOTP",
			Summary: "Confirm the secret offered with its current code; the answer holds ten recovery codes, shown once.",
			Roles:   allRoles, Body: reflect.TypeFor[totpConfirm](), Status: 200,
			Reply: reflect.TypeFor[recoveryCodes](), handle: s.confirmTOTP,
		},
		{
			Method: "GET", Path: "/v1/actors/{id}", ID: "actor",
			Summary: "Who an account or token ID (an event's actor) is: name, role and scope, within the caller's scope.",
			Roles:   allRoles, Params: []param{{Name: "id", In: "path", Desc: "the account or token ID"}}, Status: 200,
			Reply: reflect.TypeFor[actorAnswer](), handle: s.actor,
		},

		{
			Method: "POST", Path: "/v1/stations", ID: "registerStation",
			Summary: "Register a station with its zones and beds.",
			Roles:   admins, Body: reflect.TypeFor[domain.RegisterStation](), Idempotent: true, Status: 201,
			Reply: reflect.TypeFor[stationWritten](), handle: s.createStation,
		},
		{
			Method: "GET", Path: "/v1/stations", ID: "listStations",
			Summary: "List stations.",
			Roles:   allRoles, Status: 200, Reply: reflect.TypeFor[stationList](), handle: s.listStations,
		},
		{
			Method: "GET", Path: "/v1/stations/{code}", ID: "getStation",
			Summary: "Show a station.",
			Roles:   allRoles, Params: []param{stationPath}, Status: 200,
			Reply: reflect.TypeFor[projections.StationInfo](), handle: s.getStation,
		},
		{
			Method: "POST", Path: "/v1/stations/{code}/zones", ID: "changeZones",
			Summary: "Replace a station's zones and bed counts (seasonal and overflow beds included): the " +
				"body lists every zone the station keeps. Refused (rule bed_occupied) when an occupied bed " +
				"would disappear.",
			Roles: admins, Params: []param{stationPath}, Body: reflect.TypeFor[domain.ChangeZones](),
			Idempotent: true, Status: 200, Reply: reflect.TypeFor[stationWritten](), handle: s.changeZones,
		},
		{
			Method: "GET", Path: "/v1/stations/{code}/occupancy", ID: "stationOccupancy",
			Summary: "Beds, occupancy and residents of a station, now or at a time.",
			Roles:   allRoles, Params: append([]param{stationPath}, atParams...), Status: 200,
			Reply: reflect.TypeFor[projections.Occupancy](), handle: s.stationOccupancy,
		},

		{
			Method: "POST", Path: "/v1/cases", ID: "intake",
			Summary: "Record an intake: open a case.",
			Roles:   []domain.Role{domain.RoleAdmin, domain.RoleStaff}, Body: reflect.TypeFor[domain.Intake](),
			Idempotent: true, Status: 201, Reply: reflect.TypeFor[stepAnswer](), handle: s.createCase,
		},
		{
			Method: "GET", Path: "/v1/cases", ID: "searchCases",
			Summary: "Search cases in the token's scope.",
			Roles:   allRoles,
			Params: []param{
				stationQuery,
				regionQuery,
				{Name: "status", In: "query", Enum: statuses, Desc: "only cases in this status"},
				{Name: "q", In: "query", Desc: "part of the person's name or ID number"},
				{Name: "number", In: "query", Desc: "the case number (S01-2026-000123): only that case"},
				limitQuery,
				{Name: "cursor", In: "query", Desc: "the next_cursor of the previous page"},
			},
			Status: 200, Reply: reflect.TypeFor[projections.CasePage](), handle: s.searchCases,
		},
		{
			Method: "GET", Path: "/v1/cases/{id}", ID: "getCase",
			Summary: "A case's current state (read by inspectors, coordinators and admins is logged).",
			Roles:   allRoles, Params: []param{caseIDPath}, Status: 200, Reply: reflect.TypeFor[caseState](),
			handle: s.getCase,
		},
		{
			Method: "GET", Path: "/v1/cases/{id}/history", ID: "caseHistory",
			Summary: "A case's events and state as of a time or a version (reads are logged as for the " +
				"state).",
			Roles: allRoles,
			Params: []param{
				caseIDPath,
				{
					Name: "as_of", In: "query", Format: "date-time",
					Desc: "show the case as it was at this time (RFC 3339 with a zone)",
				},
				{
					Name: "known", In: "query", Format: "boolean",
					Desc: "with as_of: only what had been recorded by then",
				},
				{
					Name: "version", In: "query", Format: "integer",
					Desc: "show the case as it was after this many events (instead of as_of)",
				},
				positionQuery,
			},
			Status: 200, Reply: reflect.TypeFor[projections.History](), handle: s.caseHistory,
		},
		{
			Method: "GET", Path: "/v1/cases/{id}/person", ID: "personOfCase",
			Summary: "The other cases of a case's person (same resident ID number, or same name, birth " +
				"date and household registration place), oldest first: those the token may read as it may " +
				"read a case, the others only counted. Reads by inspectors, coordinators and admins are " +
				"logged, one entry per case shown and one for {id}.",
			Roles: allRoles, Params: []param{caseIDPath}, Status: 200, Reply: reflect.TypeFor[personAnswer](),
			handle: s.personOfCase,
		},
		{
			Method: "POST", Path: "/v1/people/matches", ID: "personMatches",
			Summary: "The cases the person index links to a person about to be registered (same resident ID " +
				"number, or same name, birth date and household registration place), oldest first: those " +
				"the token may read, the others only counted. The terms are in the body, never the URL. " +
				"Reads by inspectors, coordinators and admins are logged, one entry per case shown.",
			Roles: allRoles, Body: reflect.TypeFor[matchBody](), Status: 200, Reply: reflect.TypeFor[matchAnswer](),
			handle: s.personMatches,
		},
	}
	for _, step := range domain.CaseSteps() {
		cmd, _ := domain.NewCommand(step)
		rt = append(rt, route{
			Method: "POST", Path: "/v1/cases/{id}/" + string(step), ID: "step_" + string(step),
			Summary: "Record the " + string(step) + " step of a case.", Roles: stepRoles,
			Params: []param{caseIDPath}, Body: reflect.TypeOf(cmd).Elem(),
			Idempotent: true, Status: 200, Reply: reflect.TypeFor[stepAnswer](), handle: s.caseStep(step),
		})
	}
	rt = append(rt, []route{
		{
			Method: "GET", Path: "/v1/safety", ID: "safetyBoard",
			Summary: "Safety alerts of a station or region.",
			Roles:   allRoles, Params: append([]param{stationQuery, regionQuery}, atParams...), Status: 200,
			Reply: reflect.TypeFor[projections.SafetyBoard](), handle: s.safetyBoard,
		},
		{
			Method: "GET", Path: "/v1/worklist", ID: "worklist",
			Summary: "What is due within 3 days and what is overdue at a station or region, each with its " +
				"deadline and the step that clears it, the overdue first, then by deadline.",
			Roles: allRoles, Params: append([]param{stationQuery, regionQuery}, atParams...), Status: 200,
			Reply: reflect.TypeFor[projections.Worklist](), handle: s.worklist,
		},
		{
			Method: "GET", Path: "/v1/repeat-visitors", ID: "repeatVisitors",
			Summary: "People with more than one case whose latest case is at a station in scope, most " +
				"recent intake first, each with the cases the token may read (others only counted), a page " +
				"at a time: pass next_cursor as cursor for the next page. Reads by inspectors, " +
				"coordinators and admins are logged, one entry per case shown.",
			Roles: allRoles,
			Params: []param{
				stationQuery,
				regionQuery,
				{
					Name: "limit", In: "query", Format: "integer",
					Desc: "people per page: 50 when absent, at most 500",
				},
				{Name: "cursor", In: "query", Desc: "the next_cursor of the previous page"},
			},
			Status: 200, Reply: reflect.TypeFor[repeatVisitorList](), handle: s.repeatVisitors,
		},
		{
			Method: "GET", Path: "/v1/regions/{region}/transfers", ID: "regionTransfers",
			Summary: "Transfers from or to a region's stations: those in flight, oldest request first, " +
				"then those that ended (handed over, declined, or the case exited) since since=, latest " +
				"first; each with the person's sex, age band and the zones they fit, never a name. Staff " +
				"see their own station's transfers, whichever region they ask; coordinators and inspectors " +
				"of a region their region's (a transfer between regions is on both boards).",
			Roles: allRoles,
			Params: append(
				[]param{
					{Name: "region", In: "path", Desc: "the region code"},
					{
						Name: "station", In: "query",
						Desc: "only the transfers from or to this station (staff: their own, the default)",
					},
					{
						Name: "state", In: "query", Enum: transferStates,
						Desc: "only the transfers in this state; in_flight and ended for all of either",
					},
					{
						Name: "since", In: "query",
						Desc: "show the transfers that ended at or after this date (Beijing time) or RFC " +
							"3339 time; default 30 days before the board's moment",
					},
				},
				atParams...,
			),
			Status: 200, Reply: reflect.TypeFor[projections.TransferBoard](), handle: s.regionTransfers,
		},
		{
			Method: "GET", Path: "/v1/stats", ID: "statistics",
			Summary: "Census, bed nights, length of stay, exits over a period; the answer says the " +
				"interval counted (from, to, to_inclusive, from_date, to_date).",
			Roles: allRoles,
			Params: []param{
				stationQuery,
				regionQuery,
				{
					Name: "from", In: "query",
					Desc: "a date in Beijing time (2026-11-01: from its start) or an RFC 3339 time with a " +
						"zone; default 29 days before the last date, so that the period is 30 days",
				},
				{
					Name: "to", In: "query",
					Desc: "a date in Beijing time (2026-11-30: inclusive, the whole date) or an RFC 3339 " +
						"time with a zone (counted up to that instant, inclusive); default today, included",
				},
			},
			Status: 200, Reply: reflect.TypeFor[projections.Stats](), handle: s.statistics,
		},
		{
			Method: "GET", Path: "/v1/reports/{period}", ID: "report",
			Summary: "The monthly or quarterly report of a station, a region or every station (docs/reports.md), " +
				"as JSON, or as CSV or XLSX with the definition of every figure (Chinese headers, English with lang=en); " +
				"live, or as of a moment (as_of, with known=true: as recorded by then), and the answer says which.",
			Roles: allRoles,
			Params: []param{
				{Name: "period", In: "path", Desc: "a month (2026-11) or a quarter (2026-Q4), of civil dates in Beijing time"},
				stationQuery,
				regionQuery,
				{Name: "as_of", In: "query", Format: "date-time", Desc: "count the report as of this moment (by when things happened)"},
				{Name: "known", In: "query", Format: "boolean", Desc: "with as_of: only what had been recorded by then (the report as it stood)"},
				{Name: "format", In: "query", Enum: []string{"json", "csv", "xlsx"}, Desc: "the answer's format; default from Accept, else json"},
				{Name: "lang", In: "query", Enum: []string{"zh", "en"}, Desc: "the language of a CSV or XLSX table; default from Accept-Language, else zh"},
			},
			Status: 200, Reply: reflect.TypeFor[projections.Report](),
			AltMedia: []string{"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
			handle:   s.report,
		},
		{
			Method: "GET", Path: "/v1/exports", ID: "exportExchange",
			Summary: "The exchange-format export (docs/exchange.md, v1): a ZIP of CSV files with its manifest, of the cases " +
				"open on a date of the period at the stations of the scope; every case exported is recorded as read.",
			Roles: logReaders,
			Params: []param{
				{Name: "from", In: "query", Desc: "the period's first civil date (2026-11-01, Beijing time); required"},
				{Name: "to", In: "query", Desc: "its last civil date, included; required"},
				stationQuery,
				regionQuery,
				{Name: "personal", In: "query", Format: "boolean", Desc: "include personal values (admins only; never an erased person's)"},
			},
			Status: 200, ReplyMedia: "application/zip", handle: s.exportExchange,
		},
		{
			Method: "POST", Path: "/v1/imports", ID: "importExchange",
			Summary: "Load an exchange-format export (the body, application/zip) through the domain's commands: " +
				"a case with a bad row is refused whole and reported by file, line, column and reason; importing again writes nothing.",
			Roles: admins,
			Params: []param{
				{Name: "dry_run", In: "query", Format: "boolean", Desc: "check every row and report, writing nothing"},
			},
			BodyMedia: "application/zip",
			Status:    200, Reply: reflect.TypeFor[exchange.ImportReport](), handle: s.importExchange,
		},

		{
			Method: "GET", Path: "/v1/events", ID: "listEvents",
			Summary: "Page through the global log (inspectors of every region).",
			Roles:   logReaders, Params: []param{afterQuery, limitQuery}, Status: 200,
			Reply: reflect.TypeFor[eventPage](), handle: s.listEvents,
		},
		{
			Method: "GET", Path: "/v1/events/stream", ID: "streamEvents",
			Summary: "The global log as server-sent events, live; reconnect with Last-Event-ID (inspectors " +
				"of every region).",
			Roles: logReaders,
			Params: []param{
				afterQuery,
				{
					Name: "Last-Event-ID", In: "header",
					Desc: "the id of the last event received, to resume a stream (instead of after)",
				},
			},
			Status: 200, ReplyMedia: "text/event-stream", handle: s.streamEvents,
		},
		{
			Method: "GET", Path: "/v1/audit/checkpoint", ID: "auditCheckpoint",
			Summary: "The signed tree head of the log.",
			Roles:   logReaders, Status: 200, Reply: reflect.TypeFor[checkpoint](), handle: s.auditCheckpoint,
		},
		{
			Method: "GET", Path: "/v1/audit/proof", ID: "auditProof",
			Summary: "Inclusion proof of an event in a tree.",
			Roles:   logReaders,
			Params: []param{
				{Name: "position", In: "query", Desc: "the event's position in the log"},
				{
					Name: "size", In: "query", Format: "integer",
					Desc: "the size of the tree to prove against (a checkpoint's size)",
				},
			},
			Status: 200, Reply: reflect.TypeFor[inclusion](), handle: s.auditProof,
		},
		{
			Method: "GET", Path: "/v1/access-log", ID: "accessLog",
			Summary: "Who read which case, when, by which route.",
			Roles:   admins,
			Params: []param{
				{Name: "case", In: "query", Format: "uuid", Desc: "only reads of this case"},
				{Name: "reader", In: "query", Desc: "only reads by this token ID"},
				{
					Name: "after", In: "query", Format: "integer",
					Desc: "read on after this entry (the previous page's next_after)",
				},
				limitQuery,
			},
			Status: 200, Reply: reflect.TypeFor[accessLog](), handle: s.listAccessLog,
		},
		{
			Method: "POST", Path: "/v1/people/{id}/erase", ID: "erasePerson",
			Summary: "Erase a person's personal data: {id} is the ID of one of their cases; that case and " +
				"every case the person index links to it (same ID number, or same name, birth date and " +
				"household registration place) must have exited. Writes case.personal_data_erased on each " +
				"case, then destroys each case's data key; the log is not rewritten and verify still " +
				"passes. Statistics still count the person.",
			Roles: admins, Params: []param{caseIDPath}, Body: reflect.TypeFor[eraseBody](), Status: 200,
			Reply: reflect.TypeFor[Erasure](), handle: s.erasePerson,
		},
		{
			Method: "GET", Path: "/v1/people/due-for-erasure", ID: "dueForErasure",
			Summary: "Cases whose retention period after closure has ended (WAYSTATION_RETENTION), not " +
				"erased yet.",
			Roles: admins, Status: 200, Reply: reflect.TypeFor[DueList](), handle: s.dueForErasure,
		},
		{
			Method: "GET", Path: "/v1/cases/{id}/export", ID: "exportCase",
			Summary: "Inspector's bundle of a case: its events and the station events about it as stored, " +
				"each with its inclusion proof against one signed tree head, the verifier key, and the " +
				"opened values for display (not proven). Check it offline with `waystation verify-export " +
				"FILE`. Logged as a read.",
			Roles: logReaders, Params: []param{caseIDPath}, Status: 200, Reply: s.exportType(),
			handle: s.exportCase,
		},
		{
			Method: "POST", Path: "/v1/admin/backup", ID: "backup",
			Summary: "Stream a consistent backup archive (tar: the events store, the key store, the " +
				"signing key).",
			Roles: admins, Status: 200, ReplyMedia: "application/octet-stream", handle: s.backup,
		},
	}...)
	rt = append(rt, s.publicRoutes()...)
	return rt
}
