"""The work pages' URLs."""

from django.urls import path

from onsite.views import accounts, customers, leads

urlpatterns = [
    path("", accounts.home, name="home"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/<int:pk>/", customers.customer_page, name="customer"),
    path("leads/", leads.board, name="leads"),
    path("leads/<int:pk>/move/", leads.move, name="lead_move"),
    path("leads/<int:pk>/lose/", leads.lose, name="lead_lose"),
]
