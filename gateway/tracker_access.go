package gateway

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/journal"
)

// trackerAccess journals every Tracker API call — who (the Spine-From-Asid,
// Spine-UserId and Spine-RoleProfileId headers), what (path and query),
// when, and the status answered — as the Tracker API asks its callers to
// keep an audit trail of every access to patient data. Registered on the
// Tracker API's routes; it never delays the answer (the journal queues).
func (s *Server) trackerAccess(c *fiber.Ctx) error {
	err := c.Next()
	j := s.msg.journal
	if j == nil {
		return err
	}
	status := c.Response().StatusCode()
	if err != nil {
		status = fiber.StatusInternalServerError
		if fe, ok := err.(*fiber.Error); ok {
			status = fe.Code
		}
	}
	var who []string
	for _, h := range []string{"Spine-From-Asid", "Spine-UserId", "Spine-RoleProfileId"} {
		v := strings.Clone(c.Get(h))
		if v == "" {
			v = "-"
		}
		who = append(who, h+"="+v)
	}
	j.RecordAccess(journal.Access{At: s.msg.now(), Door: "tracker-api", Who: strings.Join(who, " "),
		Method: strings.Clone(c.Method()), What: strings.Clone(c.OriginalURL()), Status: status, Remote: strings.Clone(c.IP())})
	return err
}
