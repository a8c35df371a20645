from django.urls import path

from portfolio import settings_milestone_views as milestone_views
from portfolio import settings_review_views as review_views
from portfolio import settings_views as views

app_name = "journey_settings"

urlpatterns = [
    path("journey/", views.policies, name="policies"),
    path("churn-reasons/", views.churn_reasons, name="churn_reasons"),
    path("churn-reasons/categories/", views.churn_category_add, name="churn_category_add"),
    path("churn-reasons/categories/retire/", views.churn_category_retire, name="churn_category_retire"),
    path("churn-reasons/categories/restore/", views.churn_category_restore, name="churn_category_restore"),
    path("churn-reasons/retire/", views.churn_reason_retire, name="churn_reason_retire"),
    path("churn-reasons/restore/", views.churn_reason_restore, name="churn_reason_restore"),
    path("churn-reasons/delete/", views.churn_reason_delete, name="churn_reason_delete"),
    path("reviews/", review_views.reviews, name="reviews"),
    path("reviews/edit/", review_views.review_question_edit, name="review_question_edit"),
    path("reviews/move/", review_views.review_question_move, name="review_question_move"),
    path("reviews/retire/", review_views.review_question_retire, name="review_question_retire"),
    path("reviews/restore/", review_views.review_question_restore, name="review_question_restore"),
    path("reviews/delete/", review_views.review_question_delete, name="review_question_delete"),
    path("milestones/", milestone_views.milestones, name="milestones"),
    path("milestones/edit/", milestone_views.milestone_template_edit, name="milestone_template_edit"),
    path("milestones/move/", milestone_views.milestone_template_move, name="milestone_template_move"),
    path("milestones/retire/", milestone_views.milestone_template_retire, name="milestone_template_retire"),
    path("milestones/restore/", milestone_views.milestone_template_restore, name="milestone_template_restore"),
]
