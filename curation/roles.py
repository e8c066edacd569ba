"""The three roles of SPEC.md as Django groups, with the permissions each one holds.

Read by the data migration that creates the groups; permission checks elsewhere use these codenames.
"""

CURATOR = "curator"
REVIEWER = "reviewer"
ML_ADMIN = "ml_admin"

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    CURATOR: (
        "curation.view_style",
        "curation.view_artwork",
        "curation.add_artwork",
        "curation.change_artwork",
        "curation.export_artwork",
        "classifier.view_prediction",
        "classifier.view_modelversion",
    ),
    REVIEWER: (
        "curation.view_style",
        "curation.view_artwork",
        "curation.view_reviewtask",
        "curation.work_reviewtask",
        "curation.view_reviewevent",
        "classifier.view_prediction",
        "classifier.view_modelversion",
    ),
    ML_ADMIN: (
        "curation.view_style",
        "curation.change_style",
        "curation.view_artwork",
        "curation.view_reviewtask",
        "curation.view_reviewevent",
        "classifier.view_prediction",
        "classifier.view_modelversion",
        "classifier.add_modelversion",
        "classifier.change_modelversion",
        "classifier.activate_modelversion",
        "classifier.view_modelversionevent",
        "classifier.view_trainingrun",
        "classifier.add_trainingrun",
    ),
}
