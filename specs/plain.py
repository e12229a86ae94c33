"""plain: no overlay at all, the reference every overlay variant is held to.

Each container is a directory on the upper filesystem, so its fds follow the VFS
rules exactly like host fds; `mount` and `umount` change nothing.

Sources:
- lib/errseq.c (b4678df184b3 "errseq: Always report a writeback error once", v4.17):
  errseq_sample() returns 0 for an unseen error.
- 735e4ae5ba28 "vfs: track per-sb writeback errors and report them to syncfs" (v5.8):
  sb->s_wb_err, file->f_sb_err sampled in do_dentry_open(), syncfs(2) does
  errseq_check_and_advance(&sb->s_wb_err, &f->f_sb_err).
- 5660e13d2fd6 "fs: new infrastructure for writeback error handling and reporting"
  (v4.13): mapping->wb_err and file->f_wb_err checked by fsync.
- The seed (Jeff Layton, 5bc11eb2e02893e7976f89a888221c902c11a2b4.camel@kernel.org and
  1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org): "On a 'normal'
  (non-overlay) fs, you'd get an error back on both syncfs calls."
"""

from explorer.domain.vfs import Spec


class Plain(Spec):
    """All hooks are the VFS defaults of explorer.domain.vfs.Spec."""

    name = "plain"
    summary = "no overlay: containers are directories of the upper fs"
    sources = (
        "b4678df184b3",
        "735e4ae5ba28",
        "5660e13d2fd6",
        "5bc11eb2e02893e7976f89a888221c902c11a2b4.camel@kernel.org",
        "1334bba9cefa81f80005f8416680afb29044379c.camel@kernel.org",
    )
