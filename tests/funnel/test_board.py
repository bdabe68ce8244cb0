"""The kanban: what a card says, how the board narrows, the collapsed Lost column, refusals at the card."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinicflow.funnel.models import Case, LostReason, Stage
from clinicflow.funnel.services import case_move
from clinicflow.funnel.views import BoardFilters, board_columns
from clinicflow.inbox.services import InquiryDraft, inquiry_receive
from clinicflow.scheduling.models import Appointment
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def inquiry(branch, phone: str, name: str, by, **fields):
    draft = InquiryDraft(channel="phone", phone=phone, full_name=name, consent=True, branch_id=branch.pk, **fields)
    return inquiry_receive(draft=draft, created_by=by)[0]


def visit(case: Case, doctor, *, days: float = 2, status: str = Appointment.Status.BOOKED) -> Appointment:
    starts_at = timezone.now() + timedelta(days=days)
    return Appointment.objects.create(patient=case.patient, case=case, doctor=doctor, branch=case.branch,
                                      starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30), status=status)


def cards(columns, stage) -> list[Case]:
    return next(c for c in columns if c["stage"] == stage)["cards"]


def column(columns, stage) -> dict:
    return next(c for c in columns if c["stage"] == stage)


@pytest.fixture
def anna(moscow, receptionist, consultation):
    return inquiry(moscow, "+7 916 100-00-01", "Anna Volkova", receptionist, service_id=consultation.pk,
                   preferred_time="Tuesday morning").case


class TestTheCard:
    def test_it_shows_phone_what_the_patient_wants_the_next_visit_and_the_owner(self, anna, doctor, rita_client):
        visit(anna, doctor, days=-3, status=Appointment.Status.COMPLETED)  # past: not the next one
        visit(anna, doctor, days=2)
        page = rita_client.get("/cases/").content.decode()
        assert "+7 916 100-00-01" in page
        assert "Cardiologist consultation" in page and "Tuesday morning" in page
        assert doctor.full_name in page and "Visit" in page
        assert "Rita" in page or "rita" in page

    def test_a_case_without_an_owner_says_so(self, anna, rita_client):
        Case.objects.filter(pk=anna.pk).update(owner=None)
        assert "no owner" in rita_client.get("/cases/").content.decode()

    def test_a_cancelled_visit_is_not_the_next_one(self, anna, doctor, receptionist):
        visit(anna, doctor, days=1, status=Appointment.Status.CANCELLED)
        assert cards(board_columns(receptionist), Stage.NEW)[0].next_visit_at is None

    def test_the_next_visit_is_the_earliest_coming_one(self, anna, doctor, receptionist):
        later, sooner = visit(anna, doctor, days=5), visit(anna, doctor, days=1)
        card = cards(board_columns(receptionist), Stage.NEW)[0]
        assert card.next_visit_at == sooner.starts_at != later.starts_at


class TestQueries:
    def test_the_board_costs_the_same_queries_for_two_cards_or_forty(self, moscow, receptionist, doctor,
                                                                       consultation):
        def measure() -> int:
            with CaptureQueriesContext(connection) as queries:
                columns = board_columns(receptionist, BoardFilters(lost=True))
                shown = [(card.patient.display_phone, card.owner, card.branch.name, card.wants_service,
                          card.next_visit_at) for col in columns for card in col["cards"]]
                assert shown
            return len(queries)

        for n in range(2):
            visit(inquiry(moscow, f"+7 916 200-00-{n:02}", f"P{n}", receptionist, service_id=consultation.pk).case,
                  doctor, days=n + 1)
        few = measure()
        for n in range(2, 40):
            case = inquiry(moscow, f"+7 916 200-00-{n:02}", f"P{n}", receptionist, service_id=consultation.pk).case
            visit(case, doctor, days=n + 1)
            if n % 3 == 0:
                case_move(case=case, to_stage=Stage.LOST, reason="No answer")
        assert measure() == few <= 4


class TestFilters:
    @pytest.fixture
    def board(self, moscow, receptionist, manager, doctor, anna):
        boris = inquiry(moscow, "+7 916 100-00-02", "Boris Orlov", manager).case
        Case.objects.filter(pk=boris.pk).update(owner=manager, created_at=timezone.now() - timedelta(days=20))
        visit(anna, doctor)
        return {"anna": anna, "boris": boris}

    def shown(self, user, **filters) -> set[str]:
        return {c.patient.full_name for col in board_columns(user, BoardFilters(**filters)) for c in col["cards"]}

    def test_by_owner(self, board, receptionist, manager):
        assert self.shown(receptionist, owner="me") == {"Anna Volkova"}
        assert self.shown(receptionist, owner=str(manager.pk)) == {"Boris Orlov"}
        Case.objects.filter(pk=board["anna"].pk).update(owner=None)
        assert self.shown(receptionist, owner="none") == {"Anna Volkova"}

    def test_by_doctor_of_a_visit(self, board, receptionist, doctor):
        assert self.shown(receptionist, doctor=str(doctor.pk)) == {"Anna Volkova"}

    def test_by_period_the_case_was_opened_in(self, board, receptionist):
        assert self.shown(receptionist, period="7") == {"Anna Volkova"}
        assert self.shown(receptionist, period="30") == {"Anna Volkova", "Boris Orlov"}

    def test_by_name_or_phone(self, board, receptionist):
        assert self.shown(receptionist, q="orlov") == {"Boris Orlov"}
        assert self.shown(receptionist, q="100-00-01") == {"Anna Volkova"}

    def test_by_branch_never_beyond_the_users_own(self, board, receptionist, novosibirsk, outsider):
        inquiry(novosibirsk, "+7 916 100-00-03", "Nina Sokolova", outsider)
        assert self.shown(receptionist, branch=str(novosibirsk.pk)) == set()
        both = make_staff("olga", "front_office_manager", [board["anna"].branch, novosibirsk])
        assert self.shown(both, branch=str(novosibirsk.pk)) == {"Nina Sokolova"}
        assert self.shown(both) == {"Anna Volkova", "Boris Orlov", "Nina Sokolova"}

    def test_the_page_reads_the_filters_and_ignores_nonsense(self, board, rita_client):
        page = rita_client.get("/cases/", {"q": "Orlov", "owner": "x'; drop", "period": "forever",
                                           "branch": "-1", "doctor": "abc"})
        assert page.status_code == 200
        assert "Boris Orlov" in page.content.decode() and "Anna Volkova" not in page.content.decode()

    def test_the_branch_filter_lists_only_the_users_branches(self, board, moscow, novosibirsk, client):
        client.force_login(make_staff("olga", "front_office_manager", [moscow, novosibirsk]))
        assert "Novosibirsk" in client.get("/cases/").content.decode()
        client.force_login(make_staff("kira", "receptionist", [moscow]))
        assert 'name="branch"' not in client.get("/cases/").content.decode()

    def test_a_move_keeps_the_filters(self, board, rita_client):
        page = rita_client.post(f"/cases/{board['anna'].pk}/move/", {"stage": "qualification", "view": "board",
                                                                     "q": "Volkova"})
        assert "Anna Volkova" in page.content.decode() and "Boris Orlov" not in page.content.decode()


class TestTheLostColumn:
    @pytest.fixture
    def lost(self, moscow, receptionist):
        case = inquiry(moscow, "+7 916 100-00-09", "Lev Lostov", receptionist).case
        return case_move(case=case, to_stage=Stage.LOST, reason="Too expensive")

    def test_it_is_collapsed_with_its_count(self, lost, receptionist, rita_client):
        col = column(board_columns(receptionist), Stage.LOST)
        assert (col["collapsed"], col["count"], col["cards"]) == (True, 1, [])
        page = rita_client.get("/cases/").content.decode()
        assert "Show 1 lost case" in page and "Lev Lostov" not in page

    def test_it_opens_on_request_as_a_fragment(self, lost, rita_client):
        page = rita_client.get("/cases/?lost=1", HTTP_HX_REQUEST="true").content.decode()
        assert "Lev Lostov" in page and "Hide lost cases" in page
        assert "<html" not in page


class TestMovesFromTheBoard:
    def test_a_refused_move_is_shown_at_its_card(self, anna, rita_client):
        page = rita_client.post(f"/cases/{anna.pk}/move/", {"stage": "review", "view": "board"}).content.decode()
        card_at = page.index(f'data-case="{anna.pk}"')
        error_at = page.index('id="move-error"')
        assert card_at < error_at < page.index("</article>", card_at)
        assert "cannot go from New inquiry to Review" in page

    def test_a_refused_move_of_a_card_not_on_the_board_is_shown_above_it(self, anna, rita_client):
        page = rita_client.post(f"/cases/{anna.pk}/move/", {"stage": "review", "view": "board",
                                                            "q": "nobody-like-this"}).content.decode()
        assert page.index('id="move-error"') < page.index('<div class="cf-board')

    def test_lost_without_a_reason_asks_for_one_at_the_card(self, anna, rita_client):
        page = rita_client.post(f"/cases/{anna.pk}/move/", {"stage": "lost", "view": "board"}).content.decode()
        assert "Say why the case is lost." in page and 'id="lost-form"' in page
        assert "Too expensive" in page
        anna.refresh_from_db()
        assert anna.stage == Stage.NEW

    def test_lost_with_a_listed_reason_and_free_text(self, anna, rita_client):
        reason = LostReason.objects.get(name="Too expensive")
        rita_client.post(f"/cases/{anna.pk}/move/", {"stage": "lost", "view": "board", "lost_reason": reason.pk,
                                                     "reason": "found it cheaper"})
        anna.refresh_from_db()
        assert (anna.stage, anna.listed_lost_reason, anna.lost_reason) == (
            Stage.LOST, reason, "Too expensive: found it cheaper")

    def test_an_unknown_or_switched_off_reason_is_refused(self, anna, rita_client):
        reason = LostReason.objects.get(name="No answer")
        LostReason.objects.filter(pk=reason.pk).update(active=False)
        for value in (reason.pk, 999999, "abc"):
            page = rita_client.post(f"/cases/{anna.pk}/move/", {"stage": "lost", "view": "board",
                                                                "lost_reason": value}).content.decode()
            assert "Choose a reason from the list." in page
        anna.refresh_from_db()
        assert anna.stage == Stage.NEW

    def test_the_card_menu_defaults_forward(self, moscow, receptionist, rita_client):
        case = inquiry(moscow, "+7 916 100-00-05", "Fedor Forward", receptionist).case
        case_move(case=case, to_stage=Stage.BOOKING)
        page = rita_client.get("/cases/").content.decode()
        card = page[page.index(f'data-case="{case.pk}"'):]
        assert '<option value="reminder" selected>' in card[:card.index("</article>")]


class TestThePanel:
    @pytest.mark.parametrize("stage,forward", [
        (Stage.NEW, Stage.QUALIFICATION), (Stage.QUALIFICATION, Stage.BOOKING), (Stage.BOOKING, Stage.REMINDER),
        (Stage.REMINDER, Stage.COMPLETED), (Stage.COMPLETED, Stage.REVIEW), (Stage.REBOOKING, Stage.BOOKING),
        (Stage.REVIEW, Stage.CLOSED), (Stage.LOST, Stage.CLOSED)])
    def test_the_next_stage_defaults_forward(self, anna, rita_client, stage, forward):
        Case.objects.filter(pk=anna.pk).update(stage=stage)
        page = rita_client.post(f"/cases/{anna.pk}/intake/", {}).content.decode()
        assert f'<option value="{forward}" selected>' in page
        assert page.count(" selected>") - page.count('<option value="" selected>') >= 1

    def test_a_refused_lost_keeps_lost_chosen_and_offers_the_list(self, anna, rita_client):
        page = rita_client.post(f"/cases/{anna.pk}/move/", {"stage": "lost"}).content.decode()
        assert '<option value="lost" selected>' in page
        assert 'name="lost_reason"' in page and "Chose another clinic" in page


def test_the_forward_table_only_names_allowed_moves():
    from clinicflow.funnel.models import FORWARD, TRANSITIONS

    assert all(FORWARD[s] in TRANSITIONS[s] for s in FORWARD)
    assert set(FORWARD) == set(Stage.values) - {Stage.CLOSED}

