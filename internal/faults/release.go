package faults

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	v3 "github.com/porxgate/porxgate/v3"
)

// The release scenario's pharmacy: the suite's prescriptions are nominated
// to templatePharmacy; those of the release scenario to releasePharmacy,
// so that a release hands over only them.
const (
	templatePharmacy        = "FCG71"
	releasePharmacy         = "FA565"
	releaseTemplatePharmacy = `extension="FQ202"`
)

// releaseLost: prescriptions nominated to one pharmacy are sent in chunks;
// after each chunk the pharmacy asks for its nominated prescriptions, and
// every other time EPS releases them and then drops the answer. EPS hands
// over at most 25 a request (sim.MaxNominatedRelease), so after the last
// chunk the pharmacy asks again until a release delivers none of them.
// Every prescription must reach the pharmacy in exactly one release
// response: Lost counts those EPS released to it that no response
// delivered, AnsweredTwice those delivered twice.
func (s *Suite) releaseLost(ctx context.Context) Result {
	if s.cfg.ReleaseTemplate == nil {
		return failed(fmt.Errorf("no release template configured"))
	}
	reqs, err := s.prescriptions(s.cfg.N, false)
	if err != nil {
		return failed(err)
	}
	for _, r := range reqs {
		r.payload = bytes.ReplaceAll(r.payload, []byte(templatePharmacy), []byte(releasePharmacy))
	}
	chunks := max(min(s.cfg.N/25, 10), 4)
	return s.withGateway(ctx, "gw-release", func(g *gateway) Result {
		var releases []*request
		for c := range chunks {
			chunk := reqs[c*len(reqs)/chunks : (c+1)*len(reqs)/chunks]
			if err := s.load(ctx, chunk, one(g), nil); err != nil {
				return failed(err)
			}
			s.waitAnswered(ctx, chunk)
			if c%2 == 0 {
				if err := s.simFaults(ctx, map[string]any{"dropAfter": 1}); err != nil {
					return failed(err)
				}
			}
			rel := s.releaseRequest()
			releases = append(releases, rel)
			if err := s.load(ctx, []*request{rel}, one(g), nil); err != nil {
				return failed(err)
			}
			s.waitAnswered(ctx, []*request{rel})
			_ = s.simFaults(ctx, nil)
		}
		for range len(reqs)/sim.MaxNominatedRelease + 2 {
			rel := s.releaseRequest()
			releases = append(releases, rel)
			if err := s.load(ctx, []*request{rel}, one(g), nil); err != nil {
				return failed(err)
			}
			s.waitAnswered(ctx, []*request{rel})
			if !s.delivers(rel, reqs) {
				break
			}
		}
		res := s.tally(ctx, "", reqs, time.Now())
		res.AnsweredTwice = 0
		delivered := map[string]int{}
		for _, rel := range releases {
			a := s.mhs.answerTo(rel.id)
			if a == nil {
				res.AckUnanswered++
				continue
			}
			for _, p := range a.payloads {
				for _, r := range reqs {
					if strings.Contains(p, r.shortForm) {
						delivered[r.shortForm]++
					}
				}
			}
		}
		for _, r := range reqs {
			switch n := delivered[r.shortForm]; {
			case n == 0:
				res.Lost++
			case n > 1:
				res.AnsweredTwice++
			}
		}
		s.logf("release scenario: %d release requests, %d prescriptions delivered", len(releases), len(delivered))
		return res
	})
}

// delivers reports whether the answer to release request rel delivered
// any of reqs' prescriptions.
func (s *Suite) delivers(rel *request, reqs []*request) bool {
	a := s.mhs.answerTo(rel.id)
	if a == nil {
		return false
	}
	for _, p := range a.payloads {
		for _, r := range reqs {
			if strings.Contains(p, r.shortForm) {
				return true
			}
		}
	}
	return false
}

// releaseRequest makes a nominated release request for releasePharmacy.
func (s *Suite) releaseRequest() *request {
	id := strings.ToUpper(ids.NewUUID())
	p := bytes.Replace(s.cfg.ReleaseTemplate, []byte(releaseTemplatePharmacy), []byte(`extension="`+releasePharmacy+`"`), 1)
	return &request{id: id, payload: loadgen.WithTransmissionID(p, id), action: v3.NominatedReleaseRequest}
}

// waitAnswered waits (up to the drain limit) until every request has an answer.
func (s *Suite) waitAnswered(ctx context.Context, reqs []*request) {
	deadline := time.Now().Add(s.cfg.Drain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		done := true
		for _, r := range reqs {
			if s.mhs.answerTo(r.id) == nil {
				done = false
				break
			}
		}
		if done {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
