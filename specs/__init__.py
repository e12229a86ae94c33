"""The kernel variants of MODEL.md §4, one small file each; `explorer.domain.catalog` loads them."""
