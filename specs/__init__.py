"""The kernel variants of docs/model.md §4, one small file each; `explorer.domain.catalog` loads them."""
