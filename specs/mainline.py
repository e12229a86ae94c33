"""mainline (v6.12 and later, the 6.12 kernel).

335d3fc57941 "ovl: implement volatile-specific fsync error behaviour" (v5.11) with
34b4540e6646 "ovl: don't set the superblock's errseq_t manually" (Haifeng Xu,
20240730042008.395716-1-haifeng.xu@shopee.com, v6.12): ovl_sync_fs() no longer
does errseq_set(&sb->s_wb_err, -EIO) and just returns -EIO, which syncfs(2) returns
since 5679897eb104 "vfs: make sync_filesystem return errors from ->sync_fs" (v5.17).

The syscall results are those of v5.11; only the overlay sb's errseq differs.
Non-volatile: fsync is the real file's; syncfs syncs the upper fs and reports no
upper writeback error.  Volatile: mount refused on an unseen upper error; fsync
returns errseq_check(upper, ofs->errseq), syncfs -EIO, sticky.
"""

from explorer.domain.vfs import EIO
from explorer.domain.world import OvlFs, World
from specs.v5_11 import V5_11


class Mainline(V5_11):
    name = "mainline"
    summary = "6.12+: as v5.11 without setting the overlay sb's errseq"
    sources = (
        "335d3fc57941",
        "34b4540e6646",
        "20240730042008.395716-1-haifeng.xu@shopee.com",
        "5679897eb104",
    )

    def ovl_sync_fs(self, w: World, ofs: OvlFs) -> int:
        st = self.ovl_sync_status(w, ofs)
        if st < 0:
            return EIO
        if st == 0:
            return 0
        w.writeback_all()
        return 0
