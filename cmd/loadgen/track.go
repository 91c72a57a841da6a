package main

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// tracker follows the orders of one run (one rate step): which devices
// must get which alert, which did, when, and what arrived that nobody was
// owed. Orders are sharded by id so the readers of many devices rarely
// wait on one lock.
type tracker struct {
	ownerDevices, clientDevices int
	shards                      [64]trackShard

	duplicated, wrong, unmatched atomic.Int64
	// pending counts deliveries still owed, so the drain can stop early.
	pending atomic.Int64

	httpMu     sync.Mutex
	postLat    []time.Duration
	patchLat   []time.Duration
	httpErrors map[string]int
	errSample  []string
}

type trackShard struct {
	mu          sync.Mutex
	orders      map[int64]*orderRec
	submitLat   []time.Duration
	approvalLat []time.Duration
	_           [40]byte // keep neighbouring locks off one cache line
}

// orderRec is one order. Device bits: owner device s is bit s, client
// device s is bit ownerDevices+s.
type orderRec struct {
	client, owner int32
	known         bool // the generator placed it (its id is ours)
	approveSent   bool // the accept was sent: the customer is owed APPROVAL_ORDER
	approveFailed bool // ... but the accept request failed
	got           uint16
	submitAt      time.Duration
	approveAt     time.Duration
	early         []earlyAlert // arrived before the order's id was known
}

type earlyAlert struct {
	dev *device
	a   alert
}

func newTracker(ownerDevices, clientDevices int) *tracker {
	t := &tracker{ownerDevices: ownerDevices, clientDevices: clientDevices, httpErrors: map[string]int{}}
	for i := range t.shards {
		t.shards[i].orders = make(map[int64]*orderRec)
	}
	return t
}

func (t *tracker) shard(id int64) *trackShard {
	return &t.shards[uint64(id)%uint64(len(t.shards))]
}

// placed records an order the generator placed at submitAt (before its
// request went out); alerts for it that arrived first are settled now.
func (t *tracker) placed(id int64, clientIdx, ownerIdx int, submitAt time.Duration) {
	s := t.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.orders[id]
	if r == nil {
		r = &orderRec{}
		s.orders[id] = r
	}
	if r.known {
		// The server handed out one id twice.
		t.wrong.Add(1)
		return
	}
	r.known, r.client, r.owner, r.submitAt = true, int32(clientIdx), int32(ownerIdx), submitAt
	t.pending.Add(int64(t.ownerDevices))
	early := r.early
	r.early = nil
	for _, e := range early {
		t.apply(s, r, e.dev, e.a)
	}
}

// accepting records that the accept of a placed order goes out now.
func (t *tracker) accepting(id int64, at time.Duration) {
	s := t.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.orders[id]; r != nil && r.known && !r.approveSent {
		r.approveSent, r.approveAt = true, at
		t.pending.Add(int64(t.clientDevices))
	}
}

// acceptFailed records that the accept request failed: nothing is owed.
func (t *tracker) acceptFailed(id int64) {
	s := t.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.orders[id]; r != nil && r.approveSent && !r.approveFailed {
		r.approveFailed = true
		owed := t.clientDevices - bits.OnesCount16(r.got&t.clientMask())
		t.pending.Add(-int64(owed))
	}
}

func (t *tracker) ownerMask() uint16  { return 1<<t.ownerDevices - 1 }
func (t *tracker) clientMask() uint16 { return (1<<t.clientDevices - 1) << t.ownerDevices }

// receive settles one alert a device got.
func (t *tracker) receive(d *device, a alert) {
	if a.orderID < 0 {
		// -match fifo: the payload names no order; it is the oldest one
		// this device is owed.
		id, ok := d.popExpected()
		if !ok {
			t.unmatched.Add(1)
			return
		}
		a.orderID = id
	}
	s := t.shard(a.orderID)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.orders[a.orderID]
	if r == nil {
		r = &orderRec{}
		s.orders[a.orderID] = r
	}
	if !r.known {
		r.early = append(r.early, earlyAlert{d, a})
		return
	}
	t.apply(s, r, d, a)
}

// apply settles an alert for a known order; s.mu is held.
func (t *tracker) apply(s *trackShard, r *orderRec, d *device, a alert) {
	switch a.event {
	case evSubmit:
		if d.role != owner || int32(d.account) != r.owner || d.slot >= t.ownerDevices {
			t.wrong.Add(1)
			return
		}
		bit := uint16(1) << d.slot
		if r.got&bit != 0 {
			t.duplicated.Add(1)
			return
		}
		r.got |= bit
		s.submitLat = append(s.submitLat, a.at-r.submitAt)
	case evApproval:
		if d.role != client || int32(d.account) != r.client || d.slot >= t.clientDevices || !r.approveSent {
			t.wrong.Add(1)
			return
		}
		bit := uint16(1) << (t.ownerDevices + d.slot)
		if r.got&bit != 0 {
			t.duplicated.Add(1)
			return
		}
		r.got |= bit
		s.approvalLat = append(s.approvalLat, a.at-r.approveAt)
		if r.approveFailed {
			return // not counted as owed, so not as paid
		}
	}
	t.pending.Add(-1)
}

func (t *tracker) httpDone(post bool, d time.Duration) {
	t.httpMu.Lock()
	if post {
		t.postLat = append(t.postLat, d)
	} else {
		t.patchLat = append(t.patchLat, d)
	}
	t.httpMu.Unlock()
}

func (t *tracker) httpError(kind, detail string) {
	t.httpMu.Lock()
	t.httpErrors[kind]++
	if len(t.errSample) < 5 {
		t.errSample = append(t.errSample, detail)
	}
	t.httpMu.Unlock()
}

// tally is what the tracker found once the run drained.
type tally struct {
	Orders      int // placed and known
	Expected    int
	Received    int
	Lost        int
	Duplicated  int
	Wrong       int
	Unmatched   int
	Submit      []time.Duration
	Approval    []time.Duration
	Post, Patch []time.Duration
	HTTPErrors  map[string]int
	ErrSample   []string
}

func (t *tracker) tally() tally {
	var out tally
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, r := range s.orders {
			if !r.known {
				out.Unmatched += len(r.early)
				continue
			}
			out.Orders++
			owed := t.ownerMask()
			if r.approveSent && !r.approveFailed {
				owed |= t.clientMask()
			}
			out.Expected += bits.OnesCount16(owed)
			out.Received += bits.OnesCount16(r.got)
			out.Lost += bits.OnesCount16(owed &^ r.got)
		}
		out.Submit = append(out.Submit, s.submitLat...)
		out.Approval = append(out.Approval, s.approvalLat...)
		s.mu.Unlock()
	}
	out.Duplicated = int(t.duplicated.Load())
	out.Wrong = int(t.wrong.Load())
	out.Unmatched += int(t.unmatched.Load())
	t.httpMu.Lock()
	out.Post, out.Patch = t.postLat, t.patchLat
	out.HTTPErrors, out.ErrSample = t.httpErrors, t.errSample
	t.httpMu.Unlock()
	return out
}
