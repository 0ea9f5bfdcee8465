"""(area under construction)"""

urlpatterns = []
