"""mount-marks-no-error: an overlay mount does not mark an unseen upper error SEEN.

Vivek Goyal, 2021-01-04, 20210104165921.GB73873@redhat.com: "So far overlay mount()
does not consume unseen error [...] If we consume error on mount(), we change
behavior."  A mount that marks the upper superblock's errseq SEEN hides the error from
every file opened afterwards (errseq_sample() returns 0 only while it is unseen), in
any container and on the host: claims/thread/22 shows it for one run; this property
checks every run within the bounds.

A user property is a monitor over runs (explorer.bridge.user_property): a bookkeeping
value carried along each run, `step` called on every event with the state before it,
`after` on the state reached.  Here the bookkeeping is the container whose mount just
happened over an unseen upper error (None otherwise), and `after` looks whether that
error is SEEN once the mount is done.

Run it:   explore -p claims/examples/props/mount-marks-no-error.py
In a claim:   expect: vivek-v3-seen ../examples/props/mount-marks-no-error.py fails 4

Derived by hand (docs/model.md §4), at the main job's bounds (one host fd):
  vivek-v3-seen  fails 4: open fd1 host, write fd1, wberror host, mount ovl1: the mount
                 samples the upper, then check_and_advance()s it into a throwaway
                 cursor, which sets SEEN.  Nothing shorter: the error needs dirty data
                 (an open and a write), then the error, then the mount.
  every other spec holds: plain's and v5.10's mounts touch no errseq; mainline, v5.11
                 and amir sample the upper (and check it for a volatile mount), which
                 never sets SEEN; vivek-v2 samples it into the overlay sb; jeff-split's
                 volatile mount peeks, which sets OBSERVED, not REPORTED (bit 12, the
                 split errseq's "seen" for errseq_sample()).
"""

from explorer.bridge.user_property import Property


class MountMarksNoError(Property):
    name = "mount-marks-no-error"
    summary = "an overlay mount does not mark an unseen upper error SEEN"

    def initial(self):
        return None  # no mount under scrutiny

    def step(self, m, event, world):
        """Remember a mount that happens while the upper fs holds an unseen error."""
        if event.verb == "mount" and world.sb.s_wb_err.value and not world.seen():
            return event.actor, ""
        return None, ""

    def after(self, m, world):
        """Right after such a mount: is the error still unseen?"""
        if m is not None and world.seen():
            return f"the mount of {m} marked the upper fs's unseen error SEEN"
        return ""
