package gateway

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/admin"
	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/certfile"
)

// adminRoutes registers the gateway's own /admin/* views on r, a group at
// /admin on the admin listener: every handler registered here moves with
// the group, behind its authentication and access journal.
func (s *Server) adminRoutes(r fiber.Router) {
	r.Get(strings.TrimPrefix(PathDeadLetters, "/admin"), s.deadLetters)
	r.Get(strings.TrimPrefix(PathQueues, "/admin"), s.queues)
	s.registerDeadLetterAdmin(r)
	registerProfiles(r)
	if s.cancels != nil {
		r.Get(strings.TrimPrefix(cancels.PathAdmin, "/admin"), s.cancels.ServeAdmin)
	}
}

// adminAuth builds the admin listener's authentication from the
// configuration. With no token and no certificate roles configured it
// makes a one-off admin token and says where to find it, so that `make
// run` has a usable page and patient data is still behind a door.
func (s *Server) adminAuth() (admin.AuthConfig, error) {
	a := s.cfg.Admin
	auth := admin.AuthConfig{NoAuth: a.NoAuth}
	if a.Token != "" {
		auth.Tokens = append(auth.Tokens, admin.NewToken("env", admin.RoleAdmin, a.Token))
	}
	if a.TokensFile != "" {
		b, err := os.ReadFile(a.TokensFile)
		if err != nil {
			return auth, fmt.Errorf("admin tokens: %w", err)
		}
		toks, err := admin.ParseTokens(b)
		if err != nil {
			return auth, fmt.Errorf("admin tokens %s: %w", a.TokensFile, err)
		}
		for _, t := range toks {
			if prev, dup := admin.SameToken(auth.Tokens, t); dup {
				return auth, fmt.Errorf("admin tokens %s: the token of %s is PORXGATE_ADMIN_TOKEN (%s) too", a.TokensFile, t.Name, prev)
			}
		}
		auth.Tokens = append(auth.Tokens, toks...)
	}
	if a.CertRoles != "" {
		roles, err := admin.ParseCertRoles(a.CertRoles)
		if err != nil {
			return auth, fmt.Errorf("admin: %w", err)
		}
		auth.CertRoles = roles
	}
	if !auth.NoAuth && len(auth.Tokens) == 0 && len(auth.CertRoles) == 0 {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return auth, fmt.Errorf("admin token: %w", err)
		}
		tok := hex.EncodeToString(b)
		// The x before CreateTemp's random digits keeps them from standing
		// alone: ten of them (three names in four) were taken by the log's
		// redaction for an NHS number, and the line named no file.
		f, err := os.CreateTemp("", "porxgate-admin-token-x*")
		if err != nil {
			return auth, fmt.Errorf("admin token file: %w", err)
		}
		_, werr := f.WriteString(tok + "\n")
		if cerr := f.Close(); werr != nil || cerr != nil {
			return auth, fmt.Errorf("admin token file %s: %v %v", f.Name(), werr, cerr)
		}
		auth.Tokens = append(auth.Tokens, admin.NewToken("generated", admin.RoleAdmin, tok))
		s.adminTokenFile = f.Name()
		s.log.Warn("no admin credentials configured (PORXGATE_ADMIN_TOKEN, --admin-tokens, --admin-cert-roles): a one-off admin token was written to a file readable only by this user",
			"token_file", f.Name(), "page", "http://"+s.cfg.Admin.Addr+admin.PathPage)
	}
	return auth, nil
}

// AdminServer builds the admin listener's app: the page, the journal API
// and the gateway's /admin/* views behind authentication. Call it after
// EnableCancellations.
func (s *Server) AdminServer() (*admin.Server, error) {
	auth, err := s.adminAuth()
	if err != nil {
		return nil, err
	}
	return admin.New(auth, admin.Deps{Journal: s.msg.journal, Live: s.liveState, Mount: s.adminRoutes,
		Log: s.log.With("component", "admin"), Now: s.msg.now}), nil
}

// liveState gathers the gateway's part of the admin page's live state.
func (s *Server) liveState(ctx context.Context) admin.State {
	st := admin.State{Store: s.store.Kind(), Queues: map[string]int{}, PendingCancellations: -1, DeadLetters: []admin.DeadLetter{},
		Routes: s.msg.routes.Configured(), Comparison: "off"}
	if c := comparingOf(s.msg.proc); c != nil {
		st.Comparison = c.Describe()
	}
	for _, q := range []struct{ name, unknown string }{{inboxQueue, admin.UnknownInbox}, {outbox.Queue, admin.UnknownOutbox}} {
		n, err := s.store.QueueLen(ctx, q.name)
		if err != nil {
			st.Problems = append(st.Problems, "queue "+q.name+": "+err.Error())
			st.Unknown = append(st.Unknown, q.unknown)
			continue
		}
		st.Queues[q.name] = n
	}
	if s.upstream != nil {
		st.Upstream = s.upstream.Describe()
		st.Breakers = s.upstream.BreakerStates()
	}
	if s.cancels != nil {
		if cs, err := s.cancels.Stats(ctx); err == nil {
			st.PendingCancellations = cs.Pending
		} else {
			st.Problems = append(st.Problems, "cancellations: "+err.Error())
			st.Unknown = append(st.Unknown, admin.UnknownPendingCancellations)
		}
	}
	var list []outbox.DeadLetter
	_, err := readDeadLetters(ctx, s.store, 0, 20, func(dl outbox.DeadLetter, err error) {
		if err == nil {
			list = append(list, dl)
		}
	})
	countKnown := err == nil
	if err != nil {
		st.Problems = append(st.Problems, "dead letters: "+err.Error())
		st.Unknown = append(st.Unknown, admin.UnknownDeadLetters)
	}
	st.DeadLetterCount = len(list)
	if dc, ok := s.store.(deadLetterCounter); ok {
		n, err := dc.DeadLetterLen(ctx)
		if countKnown = err == nil; countKnown {
			st.DeadLetterCount = n
		} else {
			st.Problems = append(st.Problems, "dead letters: "+err.Error())
		}
	}
	if !countKnown {
		// Not 0: "no dead letters" is what an operator would read.
		st.DeadLetterCount = -1
		st.Unknown = append(st.Unknown, admin.UnknownDeadLetterCount)
	}
	for _, dl := range list {
		st.DeadLetters = append(st.DeadLetters, admin.DeadLetter{ID: dl.ID, At: dl.At, Stage: string(dl.Stage), MessageID: dl.MessageID,
			Interaction: dl.Interaction, Party: dl.Party, Reason: dl.Reason})
	}
	return st
}

// deadLetterHeader is implemented by stores that keep each dead letter's
// head beside it (store.Finish.DeadLetterHead), to list them without the
// messages they keep.
type deadLetterHeader interface {
	DeadLetterHeads(ctx context.Context, offset, limit int) ([]store.DeadLetterHead, error)
}

// readDeadLetters calls each with up to n dead letters of st, newest
// first, after the newest offset, as a listing shows them, without the
// messages they keep (each's head, where st keeps one; one kept without,
// by an older porxgate, is read whole), or with why one cannot be read.
// It returns how many it read: fewer than n at the end of the list.
func readDeadLetters(ctx context.Context, st store.Store, offset, n int, each func(dl outbox.DeadLetter, err error)) (int, error) {
	var heads []store.DeadLetterHead
	if h, ok := st.(deadLetterHeader); ok {
		var err error
		if heads, err = h.DeadLetterHeads(ctx, offset, n); err != nil {
			return 0, err
		}
	} else {
		heads = make([]store.DeadLetterHead, n)
	}
	read := 0
	for read < len(heads) {
		if b := heads[read].Head; b != nil {
			dl, err := outbox.DecodeDeadLetter(b)
			each(dl, err)
			read++
			continue
		}
		// Those without a head are read whole, together: the oldest are
		// (dead letters kept before heads were).
		j := read
		for j < len(heads) && heads[j].Head == nil {
			j++
		}
		want := j - read
		raw, err := st.DeadLetterPage(ctx, offset+read, want)
		if err != nil {
			return read, err
		}
		for _, b := range raw {
			dl, err := outbox.DecodeDeadLetter(b)
			dl.Body, dl.Entry = nil, nil
			each(dl, err)
		}
		read += len(raw)
		if len(raw) < want {
			break // the list ends here
		}
	}
	return read, nil
}

// adminListener holds the admin listener's address once it listens.
type adminListener struct {
	mu    sync.Mutex
	addr  string
	ready chan struct{}
}

// AdminAddr returns the admin listener's address, waiting up to wait for
// it to listen; "" when it does not.
func (s *Server) AdminAddr(wait time.Duration) string {
	select {
	case <-s.adminLn.ready:
	case <-time.After(wait):
		return ""
	}
	s.adminLn.mu.Lock()
	defer s.adminLn.mu.Unlock()
	return s.adminLn.addr
}

// startSide starts what runs beside the front doors: comparison mode's
// shadow workers (until work stops) and the admin listener (until serving
// stops). The journal's writer is ServeAndWork's: it stops last. An admin
// listener that fails while serving goes on (it could not listen, its
// certificate is unreadable) is given to fail, which ends the run: a
// gateway that cannot be managed is restarted, not left running.
func (s *Server) startSide(serveCtx, workCtx context.Context, wg *sync.WaitGroup, fail func(error)) {
	s.startCompare(workCtx, wg)
	if s.cfg.Admin.Addr == "" || s.cfg.Admin.Addr == "off" {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.serveAdmin(serveCtx); err != nil {
			s.log.Error("admin listener stopped", "err", err)
			if serveCtx.Err() == nil {
				fail(err)
			}
		}
	}()
}

// openedAdmin is the admin listener bound, with its app, not yet served.
type openedAdmin struct {
	app        *admin.Server
	ln         net.Listener
	unregister func() // its certificates' expiry metrics
}

// closeAdmin closes what openAdmin opened, when it is not to be served.
func (s *Server) closeAdmin() {
	if o := s.adminOpen; o != nil {
		_ = o.ln.Close()
		o.unregister()
	}
	s.removeAdminToken()
}

// removeAdminToken removes the one-off admin token's file (adminAuth),
// once no admin listener takes the token: left behind, one more file of
// a token no process takes was left at each start.
func (s *Server) removeAdminToken() {
	if s.adminTokenFile == "" {
		return
	}
	if err := os.Remove(s.adminTokenFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("could not remove the one-off admin token's file", "token_file", s.adminTokenFile, "err", err)
	}
	s.adminTokenFile = ""
}

// openAdmin builds the admin listener's app and binds it with its TLS (a
// no-op when the admin listener is off, or open already). Run calls it
// before the front door listens, so that a configuration the admin
// listener cannot serve (its port taken, its certificate not matching its
// key, its tokens file unreadable) fails the start with nothing serving,
// rather than ending a run that was already taking messages; a server
// started by ServeAndWork alone opens it there.
func (s *Server) openAdmin() (err error) {
	if s.cfg.Admin.Addr == "" || s.cfg.Admin.Addr == "off" || s.adminOpen != nil {
		return nil
	}
	defer func() {
		if err != nil {
			s.removeAdminToken()
		}
	}()
	as, err := s.AdminServer()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Admin.Addr)
	if err != nil {
		return fmt.Errorf("admin listen %s: %w", s.cfg.Admin.Addr, err)
	}
	a := s.cfg.Admin
	unregister := func() {}
	if a.TLSCertFile != "" {
		at, err := adminTLS(a, s.log)
		if err != nil {
			_ = ln.Close()
			return err
		}
		if unregister, err = registerExpiry(s.metrics.Registry, at.adminExpiry()...); err != nil {
			_ = ln.Close()
			return fmt.Errorf("admin tls: %w", err)
		}
		ln = at.listener(ln, s.cfg.MaxHandshakesPerClient, s.metrics.connectionRefused(listenerAdmin), s.log, "admin listener")
	} else {
		ln = PlainListener(ln, s.cfg.MaxHandshakesPerClient, s.metrics.connectionRefused(listenerAdmin), s.log, listenerAdmin)
	}
	s.adminOpen = &openedAdmin{app: as, ln: ln, unregister: unregister}
	return nil
}

// serveAdmin serves the admin listener (opening it first, unless Run
// did) until ctx is done.
func (s *Server) serveAdmin(ctx context.Context) error {
	if err := s.openAdmin(); err != nil {
		return err
	}
	opened := s.adminOpen
	defer opened.unregister()
	defer s.removeAdminToken()
	as, ln, a := opened.app, opened.ln, s.cfg.Admin
	s.adminLn.mu.Lock()
	s.adminLn.addr = ln.Addr().String()
	s.adminLn.mu.Unlock()
	close(s.adminLn.ready)
	s.log.Info("admin listener", "addr", ln.Addr().String(), "tls", a.TLSCertFile != "", "page", admin.PathPage)
	if err := serveClosingSilent(ctx, as.App(), ln, s.cfg.ShutdownTimeout, func() {}); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	return nil
}

// adminTLS is the admin listener's TLS, built as the front door's is: its
// certificate and key read as the front door's are (internal/certfile):
// one already expired fails the start, and a renewal written over the
// files is served from the next handshake (one that cannot be used is
// logged and the pair in use kept). With ClientCAFile, a client
// certificate those CAs signed may sign in by its name
// (VerifyClientCertIfGiven); the bundle follows its file as the front
// door's does (followClientCAs), and its Listener closes a connection
// whose certificate's CA has left the bundle.
func adminTLS(a AdminConfig, log *slog.Logger) (*FrontDoorTLS, error) {
	pair, err := certfile.Load(a.TLSCertFile, a.TLSKeyFile, time.Now())
	if err != nil {
		return nil, fmt.Errorf("admin tls: %w", err)
	}
	logRefusedRenewal(pair, log, "admin listener certificate not renewed", a.TLSCertFile)
	at := &FrontDoorTLS{pair: pair, Config: &tls.Config{GetCertificate: pair.GetCertificate, MinVersion: tls.VersionTLS12}}
	if a.ClientCAFile != "" {
		if at.cas, err = certfile.LoadPool(a.ClientCAFile); err != nil {
			return nil, fmt.Errorf("admin client CAs: %w", err)
		}
		logRefusedRenewal(at.cas, log, "admin listener client CAs not renewed", a.ClientCAFile)
		at.Config.ClientAuth = tls.VerifyClientCertIfGiven
		followClientCAs(at.Config, at.cas, nil, log, nil)
	}
	return at, nil
}
