import pytest

from assessments.models import Period


@pytest.fixture
def period(city, personas):
    """The city's period, prepared (not yet opened)."""
    return Period.objects.create(organization=city.city, year=2026, regime="2018")


@pytest.fixture
def opened(period, personas):
    from assessments.core import services

    services.period_open(period=period, user=personas.board)
    return period
