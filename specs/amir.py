"""amir: "the method above" (Amir Goldstein, 2020-12-25).

CAOQ4uxj5YS9LSPoBZ3uakb6NeBG7g-Zeu+8Vt57tizEH6xu0cw@mail.gmail.com, quoted by Jeff
Layton in 1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org:
    on mount:  errseq_sample() upper fs; on volatile mount, errseq_check() upper fs and
               fail mount on un-SEEN error
    on syncfs: errseq_check() for volatile mount; errseq_check_and_advance() for
               non-volatile mount; errseq_set() overlay sb on upper fs error
Open is the VFS default (f_sb_err samples the overlay sb), which is why Amir answers
the seed with "both syncfs fail" (CAOQ4uxjbkZ7Qb73fkXkxzmdcnfKt5AqQ3_m6DbqzeWs4tpDx7w@mail.gmail.com).
fsync is mainline's (docs/model.md §4: proposed for the patch that became 335d3fc57941).
"""

from explorer.domain.vfs import EIO
from explorer.domain.world import File, OvlFs, World
from specs.mainline import Mainline


class Amir(Mainline):
    name = "amir"
    summary = "ofs->errseq sampled at mount, advanced by syncfs, errors set on ovl sb"
    sources = (
        "CAOQ4uxj5YS9LSPoBZ3uakb6NeBG7g-Zeu+8Vt57tizEH6xu0cw@mail.gmail.com",
        "1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org",
        "CAOQ4uxjbkZ7Qb73fkXkxzmdcnfKt5AqQ3_m6DbqzeWs4tpDx7w@mail.gmail.com",
        "335d3fc57941",
    )

    def ovl_fill_super(self, w: World, ofs: OvlFs) -> int:
        es = self.errseq
        ofs.errseq = es.sample(w.sb.s_wb_err)
        if ofs.volatile and es.check(w.sb.s_wb_err, ofs.errseq):
            return EIO
        return 0

    def sys_syncfs(self, w: World, ofs: OvlFs, f: File) -> int:
        es = self.errseq
        if ofs.volatile:
            r = es.check(w.sb.s_wb_err, ofs.errseq)
        else:
            w.writeback_all()
            r = es.check_and_advance(w.sb.s_wb_err, ofs.errseq)
        if r:
            es.set(ofs.s_wb_err, r)
        return es.check_and_advance(ofs.s_wb_err, f.f_sb_err)
