package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/flight"
)

// SentinelRetryInterval is the least time between two rounds of questions
// to the sentinels after one that did not give a new master: while a
// failover is under way or the sentinels are down, commands fail at once
// instead of asking them again and again.
const SentinelRetryInterval = 500 * time.Millisecond

// sentinelMaster routes commands to the master that sentinels name, asks
// them for it at the first command and again when the master fails, and
// keeps no connection to them.
type sentinelMaster struct {
	name      string   // the master's, as the sentinels know it
	sentinels []string // their addresses
	dialer    *dialer  // connects to the sentinels
	masters   *pools   // the pools of the masters named so far
	// asks runs one round of questions to the sentinels at a time, key
	// "master", and remembers its answer for SentinelRetryInterval.
	asks *flight.Group

	mu   sync.Mutex
	addr string // the master's address; "" until known
}

// exec runs one command on the master as pool.exec does. When the master
// cannot be reached, times out or replies READONLY (it was demoted), exec
// asks the sentinels again and, if they name another master, sends the
// command once more to that one.
func (s *sentinelMaster) exec(ctx context.Context, args [][]byte) (reply, bool, error) {
	addr, err := s.master(ctx, "")
	if err != nil {
		return reply{}, false, fmt.Errorf("%s: %w", args[0], err)
	}
	rep, retried, err := s.masters.get(addr).exec(ctx, args)
	if !masterFailed(rep, err) || ctx.Err() != nil {
		return rep, retried, err
	}
	next, errNext := s.master(ctx, addr)
	if errNext != nil || next == addr {
		return rep, retried, err
	}
	rep, _, err = s.masters.get(next).exec(ctx, args)
	return rep, true, err
}

// masterFailed reports whether a command's outcome says the master may have
// changed: it could not be reached or did not answer (an error that is
// neither refused credentials nor a malformed reply), or it is a replica now.
func masterFailed(rep reply, err error) bool {
	if err != nil {
		return errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrAuth)
	}
	return rep.kind == '-' && errorCode(rep.str) == "READONLY"
}

// master returns the master's address: the known one unless it is failed,
// else the one the sentinels name now. Concurrent callers share one round
// of questions, whose answer stands for SentinelRetryInterval: sooner, it
// is the answer again, the failed address or an error.
func (s *sentinelMaster) master(ctx context.Context, failed string) (string, error) {
	s.mu.Lock()
	known := s.addr
	s.mu.Unlock()
	if known != "" && known != failed {
		return known, nil
	}
	v, err := s.asks.Do(ctx, "master", s.askAll)
	if err != nil && !errors.Is(err, ErrUnavailable) {
		// The caller's ctx ended first, or asking panicked.
		err = fmt.Errorf("%w: Sentinel: %w", ErrUnavailable, err)
	}
	if err != nil {
		return "", err
	}
	addr, _ := v.(string)
	if failed != "" && addr != failed {
		s.masters.get(failed).drain()
	}
	return addr, nil
}

// askAll is one round of questions to the sentinels, in a flight of its
// own: it records the master they name and how long the answer stands.
func (s *sentinelMaster) askAll() (any, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.dialer.budget(2*len(s.sentinels)))
	defer cancel()
	addr, err := s.ask(ctx)
	if err != nil {
		return nil, SentinelRetryInterval, err
	}
	s.mu.Lock()
	s.addr = addr
	s.mu.Unlock()
	return addr, SentinelRetryInterval, nil
}

// ask asks each sentinel in turn for the master's address until one names
// a server that says it is a master (ROLE).
func (s *sentinelMaster) ask(ctx context.Context) (string, error) {
	var last error
	for _, sentinel := range s.sentinels {
		addr, err := s.askOne(ctx, sentinel)
		if err == nil {
			err = s.isMaster(ctx, addr)
		}
		if err == nil {
			return addr, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("%w: Sentinel: no master found for %q: %w", ErrUnavailable, s.name, last)
}

// askOne asks the sentinel at addr for the master's address.
func (s *sentinelMaster) askOne(ctx context.Context, addr string) (string, error) {
	cn, err := s.dialer.dial(ctx, addr)
	if err != nil {
		return "", fmt.Errorf("sentinel %s: %w", addr, err)
	}
	rep, err := cn.do(ctx, [][]byte{[]byte("SENTINEL"), []byte("get-master-addr-by-name"), []byte(s.name)})
	cn.close()
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: sentinel %s: %w", ErrUnavailable, addr, err)
	case rep.kind == '-':
		return "", fmt.Errorf("sentinel %s: %w", addr, replyError("SENTINEL", rep.str))
	case rep.kind == '*' && rep.null:
		return "", fmt.Errorf("%w: sentinel %s does not know the master", ErrUnavailable, addr)
	case rep.kind != '*' || len(rep.elems) != 2 || rep.elems[0].kind != '$' || rep.elems[1].kind != '$':
		return "", fmt.Errorf("sentinel %s: %w", addr, unexpected("SENTINEL", rep))
	}
	return net.JoinHostPort(string(rep.elems[0].str), string(rep.elems[1].str)), nil
}

// isMaster checks with ROLE that the server at addr is a master, as a
// sentinel that has not seen a failover yet may name a demoted one. A
// server that does not allow ROLE is taken at the sentinel's word.
func (s *sentinelMaster) isMaster(ctx context.Context, addr string) error {
	rep, _, err := s.masters.get(addr).exec(ctx, [][]byte{[]byte("ROLE")})
	switch {
	case err != nil:
		return fmt.Errorf("master %s: %w", addr, err)
	case rep.kind == '-' && errorCode(rep.str) == "NOPERM":
		return nil
	case rep.kind == '-':
		return fmt.Errorf("master %s: %w", addr, replyError("ROLE", rep.str))
	case rep.kind != '*' || len(rep.elems) == 0:
		return fmt.Errorf("master %s: %w", addr, unexpected("ROLE", rep))
	case string(rep.elems[0].str) != "master":
		return fmt.Errorf("%w: the server %s named master is a %s", ErrUnavailable, addr, rep.elems[0].str)
	}
	return nil
}
