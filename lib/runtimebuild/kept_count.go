package runtimebuild

import (
	"encoding/json"
	"sort"
	"time"
)

// A start prunes its user's oldest finished builds past
// max_kept_builds_per_user (pruneKept), which needs the list of the user's
// build Jobs. The API server makes that list by filtering every build Job
// the namespace keeps (tens of thousands on a busy platform, for days), so
// listing on every start would make each start pay for the whole history.
// Instead the quota record keeps, per user, a bound on how many build Jobs
// the user has (keptCounts): every start that creates a Job adds one in the
// same update that reserves its place, so the bound is exact under the
// record's resourceVersion like the reservations are. A start lists only
// when the bound says its user may have more than max_kept_builds_per_user
// Jobs, or when the record does not know the user; the list then sets the
// bound to what is left after the pruning. A Job that went another way
// (cancel, cleanup, the TTL, by hand) only leaves the bound too high, which
// costs one list sooner. So a user under the bound never lists again, and
// one at it lists once in max_kept_builds_per_user/5 + 1 builds: the
// pruning keeps the newest finished Jobs a fifth below the bound.

// annotationKept holds the record's keptCounts, as JSON. An annotation, not
// a data key: a deployer that reads every data key as a reservation keeps it.
const annotationKept = "openserverless.apache.org/kept-builds"

// keptUsers bounds the users the record knows: past it, those whose count
// changed longest ago are forgotten (their next start lists), so the
// record, read and written by every start, stays small however many users
// the platform has.
const keptUsers = 1000

// keptCount is a bound on one user's build Jobs, and when it last changed.
type keptCount struct {
	N  int   `json:"n"`
	At int64 `json:"at"`
}

// keptCounts are the bounds by user. A user it does not name is unknown.
type keptCounts map[string]keptCount

// decodeKept reads the counts of an annotation. Counts that do not decode
// are unknown: each user's next start lists, and counts again.
func decodeKept(v string) keptCounts {
	k := keptCounts{}
	if v == "" || json.Unmarshal([]byte(v), &k) != nil {
		return keptCounts{}
	}
	for user, c := range k {
		if c.N < 0 {
			delete(k, user)
		}
	}
	return k
}

// encode writes k as an annotation's value, forgetting the users whose
// count changed longest ago past keptUsers.
func (k keptCounts) encode() (string, error) {
	if over := len(k) - keptUsers; over > 0 {
		users := make([]string, 0, len(k))
		for user := range k {
			users = append(users, user)
		}
		sort.Slice(users, func(a, b int) bool {
			if k[users[a]].At != k[users[b]].At {
				return k[users[a]].At < k[users[b]].At
			}
			return users[a] < users[b]
		})
		for _, user := range users[:over] {
			delete(k, user)
		}
	}
	b, err := json.Marshal(k)
	return string(b), err
}

// add counts a new build Job of user, as its reservation is written. It
// reports whether the start must list the user's Jobs to prune them: the
// user is unknown, or may now hold more than keep finished Jobs (its count
// before this Job is over keep). Then the count is left for the list to
// set (noteKept).
func (k keptCounts) add(user string, keep int, now time.Time) (list bool) {
	c, known := k[user]
	if !known || c.N > keep {
		return true
	}
	k[user] = keptCount{N: c.N + 1, At: now.Unix()}
	return false
}
