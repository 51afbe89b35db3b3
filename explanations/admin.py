from typing import TYPE_CHECKING

from django.contrib import admin

from explanations.models import Chunk, Document, Explanation

# The admin classes are generic only to the type checker (django-stubs); at run time Django's
# classes cannot be subscripted.
if TYPE_CHECKING:
    ChunkInlineBase = admin.TabularInline[Chunk, Document]
    DocumentAdminBase = admin.ModelAdmin[Document]
    ChunkAdminBase = admin.ModelAdmin[Chunk]
    ExplanationAdminBase = admin.ModelAdmin[Explanation]
else:
    ChunkInlineBase = admin.TabularInline
    DocumentAdminBase = ChunkAdminBase = ExplanationAdminBase = admin.ModelAdmin


class ChunkInline(ChunkInlineBase):
    model = Chunk
    fields = ("chunk_index", "section", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Document)
class DocumentAdmin(DocumentAdminBase):
    list_display = ("title", "source", "symbol", "filing_type", "date", "indexed_at")
    list_filter = ("source", "filing_type")
    search_fields = ("title", "symbol", "external_id")
    inlines = [ChunkInline]


@admin.register(Chunk)
class ChunkAdmin(ChunkAdminBase):
    list_display = ("document", "chunk_index", "source", "symbol", "section", "date")
    list_filter = ("source",)
    search_fields = ("symbol", "text")
    raw_id_fields = ("document",)
    exclude = ("embedding",)


@admin.register(Explanation)
class ExplanationAdmin(ExplanationAdminBase):
    list_display = (
        "job_id", "symbol", "depth", "status", "generator", "grounding_passed", "created_at",
    )  # fmt: skip
    list_filter = ("status", "generator", "depth", "grounding_passed")
    search_fields = ("job_id", "symbol")
    readonly_fields = ("result", "error", "created_at", "started_at", "completed_at")
    raw_id_fields = ("requested_by",)
