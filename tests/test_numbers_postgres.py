"""Out-of-range numbers on PostgreSQL: the same rule as on SQLite (tests/test_numbers.py).

oTree 6.0.15 declares an IntegerField as INTEGER, 32 bits on PostgreSQL, so 3000000000 cannot
be stored there; Grove's IntegerField is BIGINT and refuses only what is beyond 64 bits.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.fields import INTEGER_MAX
from tests.number_pages import field_views, numbers_client, start, stored_player, submit

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_numbers_out_of_range_on_postgres(tmp_path, postgres_url):
    with numbers_client(tmp_path, database_url=postgres_url) as (client, app):
        with app.state.grove.db.engine.connect() as connection:
            types = dict(
                connection.execute(
                    sa.text(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = 'number_fields_player'"
                    )
                ).all()
            )
        assert (types["i_plain"], types["id"]) == ("bigint", "integer")

        (url,) = start(client)
        accepted = submit(client, url, {"i_plain": "3000000000", "i_min0": str(INTEGER_MAX)})
        assert accepted.status_code == 303, accepted.text
        stored = stored_player(app)
        assert (stored["i_plain"], stored["i_min0"]) == (3000000000, INTEGER_MAX)

        (url,) = start(client)
        refused = submit(
            client, url, {"i_plain": "9223372036854775808", "f_plain": "inf", "c_plain": "1e999"}
        )
        assert refused.status_code == 200
        errors = {name: view.error for name, view in field_views(refused.text).items()}
        assert errors["i_plain"] == f"Ensure this value is less than or equal to {INTEGER_MAX}."
        assert errors["f_plain"] == "Enter a number."
        assert errors["c_plain"] == "This number is too large."

        player_cls = app.state.grove.project.apps["number_fields"].player_cls
        with app.state.grove.db.transaction() as db:
            player = db.scalars(sa.select(player_cls).order_by(player_cls.id.desc())).first()
            with pytest.raises(ValueError, match=r"Player\.i_plain = 9223372036854775808"):
                player.i_plain = 2**63
            with pytest.raises(ValueError, match=r"Player\.f_plain must be a finite number"):
                player.f_plain = float("nan")
