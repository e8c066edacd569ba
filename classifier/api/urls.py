from django.urls import path

from classifier.api import views

urlpatterns = [
    path("artworks/<int:pk>/predictions/", views.ArtworkPredictionListView.as_view(), name="artwork-predictions"),
    path("models/", views.ModelVersionListView.as_view(), name="model-list"),
    path("models/<int:pk>/", views.ModelVersionDetailView.as_view(), name="model-detail"),
    path("models/<int:pk>/activate/", views.ModelVersionActivateView.as_view(), name="model-activate"),
    path("training-runs/", views.TrainingRunListView.as_view(), name="training-run-list"),
    path("training-runs/<int:pk>/", views.TrainingRunDetailView.as_view(), name="training-run-detail"),
]
