"""jeff-split: split SEEN into REPORTED and OBSERVED, propagate volatile errors.

Jeff Layton, "[RFC PATCH v2 0/2] errseq+overlayfs: accomodate the volatile upper layer
use-case", 20201214221421.1127423-1-jlayton@kernel.org (2/2 "overlayfs: propagate
errors from upper to overlay sb in sync_fs"), with "[PATCH v3] errseq: split the
ERRSEQ_SEEN flag into two new flags", 20201217150037.468787-1-jlayton@kernel.org.

- The split errseq_t (explorer.domain.errseq.Split) is used for every errseq in the world,
  so errseq_sample() sets OBSERVED even for a host open.
- volatile mount: ofs->errseq = errseq_peek(&upper->s_wb_err) (OBSERVED only).
- volatile syncfs: r = errseq_check(&upper->s_wb_err, ofs->errseq) (flags masked);
  if r, errseq_set(&ovl_sb->s_wb_err, r); then the VFS check_and_advance on the ovl sb.
- non-volatile: unchanged from v5.10 (no upper error reporting from syncfs).
Written against v5.10: volatile fsync returns 0, volatile mounts never refused.
"""

from explorer.domain.errseq import Split
from explorer.domain.world import OvlFs, World
from specs.v5_10 import V5_10


class JeffSplit(V5_10):
    name = "jeff-split"
    summary = "split SEEN flag; volatile mount peeks, volatile syncfs sets ovl sb"
    sources = (
        "20201214221421.1127423-1-jlayton@kernel.org",
        "20201217150037.468787-1-jlayton@kernel.org",
    )
    errseq = Split

    def ovl_fill_super(self, w: World, ofs: OvlFs) -> int:
        if ofs.volatile:
            ofs.errseq = self.errseq.peek(w.sb.s_wb_err)
        return 0

    def ovl_sync_fs(self, w: World, ofs: OvlFs) -> int:
        if ofs.volatile:
            r = self.errseq.check(w.sb.s_wb_err, ofs.errseq)
            if r:
                self.errseq.set(ofs.s_wb_err, r)
            return 0  # the VFS ignored ->sync_fs's return in v5.10
        w.writeback_all()
        return 0
