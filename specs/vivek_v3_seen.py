"""vivek-v3-seen: vivek-v3 plus an overlay mount that marks the upper errseq SEEN.

Jeff Layton's reading of the seed (1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org,
2020-12-28: "mount (upper errseq_t SEEN flag marked)"), and his own suggestion of
2020-12-02, quoted in c3919a2264fcd6ab287b2ef26d5c51a64346f002.camel@redhat.com: in
fill_super call errseq_sample() then errseq_check_and_advance() and ignore the result.
Marks SEEN at normal and volatile mounts alike (docs/model.md §4).
Under this reading, the seed's syncfs(fd2) succeeds and syncfs(fd1) fails.
"""

from explorer.domain.vfs import errseq_t
from explorer.domain.world import OvlFs, World
from specs.vivek_v3 import VivekV3


class VivekV3Seen(VivekV3):
    name = "vivek-v3-seen"
    summary = "vivek-v3, and every overlay mount marks the upper errseq SEEN"
    sources = (
        "1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org",
        "c3919a2264fcd6ab287b2ef26d5c51a64346f002.camel@redhat.com",
    )

    def ovl_fill_super(self, w: World, ofs: OvlFs) -> int:
        es = self.errseq
        throwaway = errseq_t(es.sample(w.sb.s_wb_err))
        es.check_and_advance(w.sb.s_wb_err, throwaway)
        return 0
