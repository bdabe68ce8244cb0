from django.contrib import admin
from django.utils.translation import gettext as _


class CountsOnlyOnDelete(admin.ModelAdmin):
    """Delete confirmations name what is deleted, and only count what goes with it or stands in its way.

    Django lists related rows by their names, and rows of models the admin does not register (patients,
    their tasks and visits) would appear there by name, outside the read gate and the access log.
    """

    def get_deleted_objects(self, objs, request):
        _listed, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        deleted = [str(obj) for obj in objs]
        deleted += [_("%(count)s × %(what)s") % {"count": n, "what": what} for what, n in counts.items()
                    if n and what != self.model._meta.verbose_name_plural]
        if protected:
            protected = [_("%(count)s related records (patient data or history) that must stay") % {
                "count": len(protected)}]
        return deleted, counts, perms_needed, protected
