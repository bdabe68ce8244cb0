from django.template import Context, Template


def render(phone: str) -> str:
    return Template("{% load phones %}{{ phone|phone_link }}").render(Context({"phone": phone}))


def test_a_stored_phone_becomes_a_tel_link_shown_readably():
    assert render("+79161234567") == '<a href="tel:+79161234567" class="cf-phone text-nowrap">+7 916 123-45-67</a>'


def test_a_formatted_phone_dials_its_digits():
    assert 'href="tel:+79161234567"' in render("+7 916 123-45-67")


def test_no_phone_shows_nothing():
    assert render("") == ""


def test_markup_in_a_phone_is_escaped():
    assert "<script" not in render('+7<script>alert(1)</script>')
