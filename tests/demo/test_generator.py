import datetime as dt

from accesmt.demo.generator import Place, generate

TODAY = dt.date(2026, 11, 1)
PLACES = [
    Place("62510", "Liévin", "62800", 50.4228, 2.7786, 30_000),
    Place("62498", "Lens", "62300", 50.4322, 2.8333, 32_000),
    Place("62065", "Avion", "62210", 50.4103, 2.8336, 17_000),
    Place("62001", "Ablain-Saint-Nazaire", "62153", 50.3947, 2.7089, 2_000),
]


def _age(birth):
    return (TODAY - birth).days / 365.25


def _is_priority(household):
    return (
        household.coverage in ("css", "ame", "none")
        or household.urgent_follow_up
        or any(
            _age(m.birth_date) >= 70
            or _age(m.birth_date) < 6
            or m.has_ald
            or m.disability
            or m.home_visits != "never"
            for m in household.members
        )
    )


def test_same_seed_same_people_other_seed_other_people():
    first = generate(PLACES, seed=1, households=50, today=TODAY)
    again = generate(PLACES, seed=1, households=50, today=TODAY)
    other = generate(PLACES, seed=2, households=50, today=TODAY)
    assert first == again
    assert first != other


def test_household_proportions_follow_the_seed_figures():
    territory = generate(PLACES, households=3000, today=TODAY)
    households = territory.households
    priority_share = sum(map(_is_priority, households)) / len(households)
    persons = [m for h in households for m in h.members]
    visit_share = sum(m.home_visits != "never" for m in persons) / len(persons)
    assert 0.28 < priority_share < 0.38  # about 1 in 3 (CPTS Sud Est Grenoblois)
    assert 0.05 < visit_share < 0.085  # about 1 in 15
    reasons = [h.reason for h in households]
    assert reasons.count("mt_retired") > reasons.count("moved_in") > reasons.count("mt_too_far")
    assert all(h.phone or h.email for h in households)
    assert all(0 <= _age(m.birth_date) < 100 for m in persons)


def test_gps_follow_the_territory_figures():
    places = PLACES * 1  # 81,000 inhabitants → about 58 GPs at 1,407 inhabitants per GP
    gps = generate(places, households=10, today=TODAY).gps
    assert 50 <= len(gps) <= 65
    big = generate(
        [
            Place(p.insee_code, p.name, p.postcode, p.latitude, p.longitude, p.population * 20)
            for p in PLACES
        ],
        households=1,
        today=TODAY,
    ).gps
    over_60 = sum(TODAY.year - gp.birth_year > 60 for gp in big) / len(big)
    accepting = [gp for gp in big if gp.accepting != "no"]
    listed = sum(gp.listing != "not_listed" for gp in accepting) / len(accepting)
    assert 0.16 < over_60 < 0.24
    assert 0.60 < len(accepting) / len(big) < 0.73
    assert 0.25 < listed < 0.42
    assert all(gp.listing == "not_listed" for gp in big if gp.accepting == "no")
    assert len({gp.rpps for gp in big}) == len(big)


def test_every_phone_number_is_valid_so_the_outbox_accepts_it():
    import phonenumbers

    from accesmt.common.phones import is_mobile

    world = generate(PLACES, seed=3, households=400, today=TODAY)
    households = [h for h in world.households if h.phone]
    assert len(households) > 300
    for household in households:
        number = phonenumbers.parse(household.phone, None)
        assert phonenumbers.is_valid_number(number), household.phone
        assert is_mobile(household.phone)
    for gp in world.gps:
        assert phonenumbers.is_valid_number(phonenumbers.parse(gp.phone, None)), gp.phone
