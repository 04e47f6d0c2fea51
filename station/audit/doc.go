// Package audit is the station's SQLite audit log: batches, units, SN
// reservations, attempts, steps and provisioning results, kept append-only
// and hash-chained so that an edit, a removal or a reordering is found by
// Verify.
//
// # Reservation is a checkout
//
// A board (keyed by its MAC) gets an SN with Reserve when it is identified
// (ReserveAndStart also opens its attempt in the same transaction);
// Confirm makes it final when the board passes (CompleteAndConfirm with the
// passing outcome, in one transaction, which refuses with a
// DuplicateKeyError a device key or certificate serial another unit
// already has); Void retires it with a
// reason when the board is scrapped. A board seen again gets its own SN back,
// sequence numbers are never reused (so a voided SN is never reissued), and
// writers take the database's write lock before reading the next number
// (BEGIN IMMEDIATE), so several station processes on one file never hand out
// one SN twice.
//
// # Nothing is overwritten
//
// Every table of record refuses UPDATE and DELETE by trigger. State changes
// are new rows: an SN event (confirmed, voided) per reservation, one end row
// per attempt (pass, fail, or interrupted when a station restarts after a
// crash). Current state is derived: the sn_state view gives each SN's state.
//
// # The hash chain
//
// Each appended row is followed, in the same transaction, by a row of the
// records table: seq (1, 2, 3, ... in commit order), the table and row id,
// prev_hash and hash = SHA-256(prev_hash || canonical row bytes). Verify
// walks the records in order alongside each table in id order, recomputes
// every hash from the row as stored, and names the first record that does
// not fit. Removing the newest records together with their rows cannot be
// seen from inside the file; compare VerifyReport.Head with a head noted
// elsewhere (station audit verify prints it) to cover that.
//
// # Durability
//
// WAL, foreign keys, a 10 s busy timeout, synchronous=FULL on every
// connection, and one transaction per unit of work: after a crash or kill
// the log holds each unit of work entirely or not at all.
//
// # Group commit
//
// synchronous=FULL costs an fsync per commit, about a thousand commits a
// second. A Store's writes go through one committer goroutine: a unit of
// work alone runs in its own transaction, as above; units of work from
// other slots that queued meanwhile are run together in the next
// transaction, each in a savepoint of its own, and share its fsync. A
// unit of work that fails is rolled back to its savepoint (and the chain
// head with it) without touching the others; each caller returns only
// once its own work is committed. If the shared transaction itself fails,
// nobody has been told anything and every unit of work in it runs again
// alone, so a caller sees exactly the errors it would without grouping.
package audit
