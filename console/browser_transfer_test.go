package console_test

import (
	"fmt"
	"testing"
)

func TestBrowserATransferRequestedByTheCoordinatorIsAcceptedAndHandedOver(t *testing.T) {
	// Given a man in a bed at S01, S02's staff and the region's coordinator
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S02", "R1")
	id := admitted(t, e.staff("li.wei", "S01"), intakeForm("save"))
	e.staff("wang.fang", "S02")
	e.coordinator("chen.jing", "R1")
	c := e.chrome(t)
	co, s2 := c.tab("coordinator"), c.tab("s02")
	m := func(key string) string { return msg(t, "zh-CN", key) }
	board := "/regions/R1/transfers"
	co.login("chen.jing", "correct horse battery")
	s2.login("wang.fang", "correct horse battery")

	// When the coordinator asks S02 to take the case
	co.open("case", "/cases/"+id)
	co.step("transfer-request")
	co.tabType("#f-to_station", "S02")
	co.tabType("#f-reason", "离户籍地较近，便于寻亲")
	co.click("requested", `button[type="submit"].primary`)

	// Then S02's staff see it waiting for their answer, and accept it
	s2.open("transfers", board)
	s2.sees("离户籍地较近，便于寻亲", m("transfers.state.requested"))
	s2.click("accept", fmt.Sprintf(`a[href^="/cases/%s/steps/transfer-accept"]`, id))
	s2.click("accepted", `button[type="submit"].primary`)

	// When the coordinator records the escort's departure
	co.open("transfers-accepted", board)
	co.sees(m("transfers.state.accepted"))
	co.click("escort", fmt.Sprintf(`a[href^="/cases/%s/steps/escort-departure"]`, id))
	co.tabType("#f-escorts", "王强")
	co.tabType("#f-transport", "站车")
	co.click("departed", `button[type="submit"].primary`)

	// And S02 confirms the handover
	s2.open("transfers-departed", board)
	s2.sees(m("transfers.state.departed"))
	s2.click("handover", fmt.Sprintf(`a[href^="/cases/%s/steps/handover"]`, id))
	s2.tabType("#f-received_by", "赵敏")
	s2.click("handed-over", `button[type="submit"].primary`)

	// Then the transfer stays listed, handed over
	co.open("transfers-done", board)
	co.sees(m("transfers.state.handed_over"))
}
