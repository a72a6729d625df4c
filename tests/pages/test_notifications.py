"""The notification pages: the bell's count, the list (unread first, each opening its task or record
and read on opening), all read at once, the settings, the language remembered for e-mails — and
nobody sees another person's notifications."""

import pytest

from onsite.models import Channel, Notification, NotificationKind
from onsite.selectors.notifications import language_of, settings_of
from onsite.services.notifications import notify
from tests.pages.clients import signed_in

Kind = NotificationKind
pytestmark = pytest.mark.django_db


def lead_notice(user, key: str = "1", customer: str = "合肥银行") -> Notification:
    [notification] = notify(
        recipients=[user],
        kind=Kind.URGENT_LEAD,
        key=key,
        params={"customer": customer, "lead": "专线扩容", "owner": "钱经理"},
        link="/leads/",
    )
    return notification


def test_the_bell_counts_the_persons_unread_notifications(org):
    lead_notice(org.manager, "1")
    lead_notice(org.manager, "2")
    lead_notice(org.leader, "1")

    bell = signed_in(org.manager).get("/notifications/bell/").content.decode()

    assert ">2</span>" in bell
    assert "2 条未读" in bell


def test_the_bell_shows_no_badge_without_unread_notifications(org):
    bell = signed_in(org.manager).get("/notifications/bell/").content.decode()

    assert "badge" not in bell


def test_the_bell_asks_a_signed_out_page_to_stop_polling(client):
    assert client.get("/notifications/bell/").status_code == 286


def test_every_page_has_the_bell_polling_for_its_count(org):
    page = signed_in(org.manager).get("/tasks/").content.decode()

    assert 'hx-get="/notifications/bell/"' in page
    assert 'hx-trigger="load, every 30s"' in page


def test_the_list_shows_unread_first_in_the_readers_language(org):
    read = lead_notice(org.manager, "1", customer="先读客户")
    lead_notice(org.manager, "2", customer="未读客户")
    signed_in(org.manager).get(f"/notifications/{read.pk}/")

    page = signed_in(org.manager).get("/notifications/").content.decode()

    assert page.index("未读客户") < page.index("先读客户")
    assert "未读客户有一条高紧急度线索（钱经理）：“专线扩容”。" in page
    english = signed_in(org.manager).get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "A high-urgency lead at 未读客户 (钱经理): “专线扩容”." in english


def test_an_email_only_notification_is_not_listed(org):
    notify(recipients=[org.manager], kind=Kind.URGENT_LEAD, key="1", params={}, link="/")
    Notification.objects.update(in_app=False)

    page = signed_in(org.manager).get("/notifications/").content.decode()

    assert "还没有通知" in page


def test_opening_a_notification_marks_it_read_and_goes_to_its_record(org):
    notification = lead_notice(org.manager)

    response = signed_in(org.manager).get(f"/notifications/{notification.pk}/")

    assert response.status_code == 302
    assert response["Location"] == "/leads/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_link_off_the_site_is_never_followed(org):
    notification = lead_notice(org.manager)
    Notification.objects.filter(pk=notification.pk).update(link="https://evil.example/")

    response = signed_in(org.manager).get(f"/notifications/{notification.pk}/")

    assert response["Location"] == "/notifications/"


def test_another_persons_notification_does_not_exist(org):
    theirs = lead_notice(org.leader)

    assert signed_in(org.manager).get(f"/notifications/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "合肥银行" not in signed_in(org.manager).get("/notifications/").content.decode()


def test_mark_all_read_reads_only_the_persons_own(org):
    lead_notice(org.manager, "1")
    lead_notice(org.manager, "2")
    theirs = lead_notice(org.leader)

    response = signed_in(org.manager).post("/notifications/read/")

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=org.manager, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_is_a_post(org):
    assert signed_in(org.manager).get("/notifications/read/").status_code == 405


def test_the_settings_page_shows_each_kind_and_saves_the_choice(org):
    client = signed_in(org.manager)
    page = client.get("/notifications/settings/").content.decode()
    for kind in Kind.values:
        assert f'name="{kind}"' in page

    response = client.post(
        "/notifications/settings/save/", {Kind.EARLY_WARNING: Channel.EMAIL, Kind.URGENT_LEAD: "none"}
    )

    assert response.status_code == 302
    chosen = settings_of(org.manager)
    assert (chosen[Kind.EARLY_WARNING], chosen[Kind.URGENT_LEAD]) == (Channel.EMAIL, Channel.NONE)


def test_a_setting_that_is_no_channel_is_refused_back_on_the_settings_page(org):
    response = signed_in(org.manager).post(
        "/notifications/settings/save/?next=/notifications/settings/",
        {Kind.URGENT_LEAD: "pigeon"},
        follow=True,
    )

    assert settings_of(org.manager)[Kind.URGENT_LEAD] == Channel.BOTH
    assert response.redirect_chain[-1][0] == "/notifications/settings/"
    assert "请修正下面的错误" in response.content.decode()


def test_the_language_switch_is_remembered_for_the_persons_emails(org):
    client = signed_in(org.manager)

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/tasks/"})

    assert response.status_code == 302
    assert language_of(org.manager) == "en"


def test_the_pages_are_in_the_personal_menu_of_every_role(org):
    for user in (org.manager, org.leader, org.support["network"], org.coordinator, org.director):
        page = signed_in(user).get("/tasks/").content.decode()
        assert 'href="/notifications/"' in page
        assert 'href="/notifications/settings/"' in page


def test_the_pages_ask_to_sign_in(client):
    assert client.get("/notifications/").status_code == 302
    assert client.get("/notifications/settings/").status_code == 302
