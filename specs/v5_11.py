"""v5.11 up to v6.11 (the 6.1 kernel): volatile-specific fsync error behaviour.

335d3fc57941 "ovl: implement volatile-specific fsync error behaviour" (Sargun
Dhillon, 20210108001043.12683-1-sargun@sargun.me, merged for v5.11, Cc: stable).

- mount: a volatile overlay samples the upper errseq into ofs->errseq and refuses to
  mount (EIO) when errseq_check(upper, ofs->errseq) != 0, i.e. the upper fs holds an
  unseen error ("Cannot mount volatile when upperdir has an unseen error").
- ovl_sync_status(): 1 if not volatile, else errseq_check(upper, ofs->errseq); it
  never advances, so after any upper error it fails forever.
- ovl_fsync(): if ovl_sync_status() <= 0 return it (volatile: the upper errno).
- ovl_sync_fs(): if the status is < 0, errseq_set(&sb->s_wb_err, -EIO) on the overlay
  sb and return -EIO; 0 means volatile and clean; otherwise sync the upper fs.
  Non-volatile syncfs still reports no upper writeback error (the overlay sb's
  errseq is never set for a normal mount).
"""

from explorer.domain.vfs import EIO
from explorer.domain.world import File, OvlFs, World
from specs.v5_10 import V5_10


class V5_11(V5_10):
    name = "v5.11"
    summary = "6.1: volatile errors sticky, mount refused on unseen upper error"
    sources = (
        "335d3fc57941",
        "20210108001043.12683-1-sargun@sargun.me",
    )

    def ovl_fill_super(self, w: World, ofs: OvlFs) -> int:
        if ofs.volatile:
            ofs.errseq = self.errseq.sample(w.sb.s_wb_err)
            if self.errseq.check(w.sb.s_wb_err, ofs.errseq):
                return EIO
        return 0

    def ovl_sync_status(self, w: World, ofs: OvlFs) -> int:
        """1 if not volatile, else errseq_check(&upper->s_wb_err, ofs->errseq)."""
        if not ofs.volatile:
            return 1
        return self.errseq.check(w.sb.s_wb_err, ofs.errseq)

    def ovl_fsync(self, w: World, ofs: OvlFs, f: File) -> int:
        st = self.ovl_sync_status(w, ofs)
        if st <= 0:
            return st
        return self.ovl_real_fsync(w, f)

    def ovl_sync_fs(self, w: World, ofs: OvlFs) -> int:
        st = self.ovl_sync_status(w, ofs)
        if st < 0:
            # We have to always set the err, because the return value isn't checked.
            self.errseq.set(ofs.s_wb_err, EIO)
            return EIO
        if st == 0:
            return 0
        w.writeback_all()
        return 0
