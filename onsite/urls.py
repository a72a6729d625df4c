"""The work pages' URLs."""

from django.urls import path

from onsite.views import accounts, customers, leads, visits

urlpatterns = [
    path("", accounts.home, name="home"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/<int:pk>/", customers.customer_page, name="customer"),
    path("visits/", visits.visits, name="visits"),
    path("visits/week/", visits.week, name="visit_week"),
    path("leads/", leads.board, name="leads"),
    path("leads/<int:pk>/move/", leads.move, name="lead_move"),
    path("leads/<int:pk>/win/", leads.win, name="lead_win"),
    path("leads/<int:pk>/lose/", leads.lose, name="lead_lose"),
]
