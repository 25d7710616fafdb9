package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/flight"
)

// Cluster routing limits.
const (
	// ClusterRefreshInterval is the least time between two rounds of
	// questions for a Cluster's slot map: a map found stale (a MOVED
	// redirection, a node that failed) is learned again at the next
	// command, unless it was asked for less than this long ago.
	ClusterRefreshInterval = 500 * time.Millisecond
	// maxRedirects is the most MOVED or ASK redirections one command
	// follows.
	maxRedirects = 3
	// clusterSlots is the number of hash slots of a Cluster.
	clusterSlots = 16384
)

// slotRange is a range of hash slots, first to last, served by the node at
// addr.
type slotRange struct {
	first, last int
	addr        string
}

// clusterNodes routes each command to the Cluster node that owns its key's
// hash slot, by a slot map learned from the nodes at the first command and
// again once found stale, and follows MOVED and ASK redirections.
type clusterNodes struct {
	seeds  []string // the configured nodes' addresses
	nodes  *pools
	crc    *crcTable
	budget time.Duration // bounds asking one node for the slot map

	// learns asks for the slot map once at a time, key "slots", and
	// remembers the outcome for ClusterRefreshInterval.
	learns *flight.Group

	mu    sync.Mutex
	slots []slotRange // sorted; nil until learned
	stale bool        // a redirection or failure showed the map out of date
}

// exec runs one command on the node that owns key's slot as pool.exec does,
// following up to maxRedirects redirections: MOVED (the slot has a new
// owner: the map is stale) and ASK (the slot is migrating and the key may
// be on the named node: ASKING, then the command, there only).
func (c *clusterNodes) exec(ctx context.Context, key []byte, args [][]byte) (reply, bool, error) {
	addr, err := c.node(ctx, c.crc.slot(key))
	if err != nil {
		return reply{}, false, fmt.Errorf("%s: %w", args[0], err)
	}
	asking := false
	retried := false
	for i := 0; ; i++ {
		rep, r, err := c.nodes.get(addr).run(ctx, asking, args)
		retried = retried || r
		if err != nil {
			if errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrAuth) {
				c.markStale()
			}
			return rep, retried, err
		}
		code := ""
		if rep.kind == '-' {
			code = errorCode(rep.str)
		}
		if code != "MOVED" && code != "ASK" {
			return rep, retried, nil
		}
		if i == maxRedirects {
			return reply{}, retried, fmt.Errorf("%w: %s: more than %d Cluster redirections", ErrUnavailable, args[0], maxRedirects)
		}
		next, ok := redirectAddr(rep.str, addr)
		if !ok {
			return reply{}, retried, fmt.Errorf("%w: %s: %s redirection without an address", ErrProtocol, args[0], code)
		}
		if code == "MOVED" {
			c.markStale()
		}
		asking = code == "ASK"
		addr = next
	}
}

// redirectAddr returns the address of a MOVED or ASK error reply ("MOVED
// 3999 127.0.0.1:6381"), whose host, when empty, is from's.
func redirectAddr(msg []byte, from string) (string, bool) {
	fields := strings.Fields(string(msg))
	if len(fields) != 3 {
		return "", false
	}
	host, port, err := net.SplitHostPort(fields[2])
	if err != nil || port == "" {
		return "", false
	}
	if host == "" {
		host, _, _ = net.SplitHostPort(from)
	}
	return net.JoinHostPort(host, port), true
}

// markStale makes the next command learn the slot map again.
func (c *clusterNodes) markStale() {
	c.mu.Lock()
	c.stale = true
	c.mu.Unlock()
}

// node returns the address of the node that owns slot, learning the slot
// map first when it is unknown, stale or does not cover slot. A stale map
// still routes when it cannot be learned again.
func (c *clusterNodes) node(ctx context.Context, slot int) (string, error) {
	c.mu.Lock()
	slots := c.slots
	stale := c.stale
	c.mu.Unlock()
	addr := lookupSlot(slots, slot)
	if addr != "" && !stale {
		return addr, nil
	}
	err := c.learn(ctx)
	c.mu.Lock()
	slots = c.slots
	c.mu.Unlock()
	if addr := lookupSlot(slots, slot); addr != "" {
		return addr, nil
	}
	if err != nil {
		return "", err
	}
	return "", fmt.Errorf("%w: Cluster: no node serves slot %d", ErrUnavailable, slot)
}

// lookupSlot returns the address of the node that serves slot in slots,
// or "".
func lookupSlot(slots []slotRange, slot int) string {
	i := sort.Search(len(slots), func(i int) bool { return slots[i].last >= slot })
	if i < len(slots) && slots[i].first <= slot {
		return slots[i].addr
	}
	return ""
}

// learn learns the slot map, sharing one round of questions with
// concurrent callers; one round stands for ClusterRefreshInterval.
func (c *clusterNodes) learn(ctx context.Context) error {
	_, err := c.learns.Do(ctx, "slots", c.learnAll)
	if err != nil && !errors.Is(err, ErrUnavailable) {
		// The caller's ctx ended first, or learning panicked.
		err = fmt.Errorf("%w: Cluster: %w", ErrUnavailable, err)
	}
	return err
}

// learnAll asks the seeds, then the nodes of the map known so far, for the
// slot map until one answers, in a flight of its own.
func (c *clusterNodes) learnAll() (any, time.Duration, error) {
	c.mu.Lock()
	addrs := append([]string(nil), c.seeds...)
	for _, r := range c.slots {
		if !contains(addrs, r.addr) {
			addrs = append(addrs, r.addr)
		}
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.budget*time.Duration(len(addrs)))
	defer cancel()
	var last error
	for _, addr := range addrs {
		slots, err := c.askSlots(ctx, addr)
		if err == nil {
			c.mu.Lock()
			c.slots = slots
			c.stale = false
			c.mu.Unlock()
			return nil, ClusterRefreshInterval, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, ClusterRefreshInterval, fmt.Errorf("%w: Cluster: no node gave the slot map: %w", ErrUnavailable, last)
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// askSlots asks the node at addr for the slot map (CLUSTER SLOTS).
func (c *clusterNodes) askSlots(ctx context.Context, addr string) ([]slotRange, error) {
	rep, _, err := c.nodes.get(addr).exec(ctx, [][]byte{[]byte("CLUSTER"), []byte("SLOTS")})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", addr, err)
	}
	if rep.kind == '-' {
		return nil, fmt.Errorf("node %s: %w", addr, replyError("CLUSTER SLOTS", rep.str))
	}
	slots, ok := parseSlots(rep, addr)
	if !ok {
		return nil, fmt.Errorf("node %s: %w", addr, unexpected("CLUSTER SLOTS", rep))
	}
	return slots, nil
}

// parseSlots reads a CLUSTER SLOTS reply from the node at from: an array of
// [first, last, [host, port, ...], replicas...], a host "" meaning from's.
// It returns the ranges sorted, or false for a malformed reply.
func parseSlots(rep reply, from string) ([]slotRange, bool) {
	if rep.kind != '*' {
		return nil, false
	}
	fromHost, _, _ := net.SplitHostPort(from)
	slots := make([]slotRange, 0, len(rep.elems))
	for _, e := range rep.elems {
		if e.kind != '*' || len(e.elems) < 3 {
			return nil, false
		}
		first := e.elems[0]
		last := e.elems[1]
		master := e.elems[2]
		if first.kind != ':' || last.kind != ':' || first.n < 0 || first.n > last.n || last.n >= clusterSlots {
			return nil, false
		}
		if master.kind != '*' || len(master.elems) < 2 || master.elems[0].kind != '$' || master.elems[1].kind != ':' {
			return nil, false
		}
		host := string(master.elems[0].str)
		if host == "" {
			host = fromHost
		}
		if host == "?" || master.elems[1].n <= 0 || master.elems[1].n > 65535 {
			continue // a node whose address is unknown
		}
		addr := net.JoinHostPort(host, strconv.FormatInt(master.elems[1].n, 10))
		slots = append(slots, slotRange{first: int(first.n), last: int(last.n), addr: addr})
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].first < slots[j].first })
	return slots, true
}

// crcTable is the table of CRC-16/XMODEM (polynomial 0x1021), the checksum
// that maps a key to its Cluster hash slot.
type crcTable [256]uint16

// newCRCTable computes the table.
func newCRCTable() *crcTable {
	var t crcTable
	for i := 0; i < 256; i++ {
		crc := uint16(i) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return &t
}

// checksum returns the CRC-16/XMODEM of data.
func (t *crcTable) checksum(data []byte) uint16 {
	var crc uint16
	for i := 0; i < len(data); i++ {
		crc = crc<<8 ^ t[byte(crc>>8)^data[i]]
	}
	return crc
}

// slot returns the hash slot of key: the checksum of its hash tag (what is
// between its first "{" and the next "}", if that is not empty) or of the
// whole key, modulo 16384.
func (t *crcTable) slot(key []byte) int {
	if open := bytes.IndexByte(key, '{'); open >= 0 {
		if n := bytes.IndexByte(key[open+1:], '}'); n > 0 {
			key = key[open+1 : open+1+n]
		}
	}
	return int(t.checksum(key)) % clusterSlots
}
