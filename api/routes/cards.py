"""GET /v1/cards/{card_number}: a loyalty-card scan at any shop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path

from analyzers.cards import normalize_card
from analyzers.errors import InvalidValue
from api.deps import AuditDep, Caller, NamesDep, OpenSearchDep, allowed
from api.schemas import CardResponse, ErrorResponse, display_name
from search.audit import AuditEntry
from search.lookup import customer_by_card

router = APIRouter(prefix="/v1", tags=["cards"])
MIN_CARD_LENGTH = 4


@router.get(
    "/cards/{card_number}",
    response_model=CardResponse,
    responses={404: {"model": ErrorResponse, "description": "No customer holds this card."}},
)
async def card(
    client: OpenSearchDep,
    names: NamesDep,
    audit: AuditDep,
    caller: Annotated[Caller, Depends(allowed("cards"))],
    card_number: Annotated[str, Path(max_length=64, description="As printed or scanned; spaces and dashes are ignored.")],
) -> CardResponse:
    """The one golden customer holding the card, with all their cards and shops."""
    try:
        card = normalize_card(card_number)
        if len(card) < MIN_CARD_LENGTH:
            raise InvalidValue(f"a loyalty card number has at least {MIN_CARD_LENGTH} characters")
    except InvalidValue as error:
        await audit.record(AuditEntry(caller.name, caller.role_name, "card", [], card_number, "error"))
        raise HTTPException(status_code=422, detail=f"card_number: {error.reason}") from None
    customer = await customer_by_card(client, names, card, caller.access)
    if customer is None:
        await audit.record(AuditEntry(caller.name, caller.role_name, "card", [], card, "nothing"))
        raise HTTPException(status_code=404, detail=f"No customer holds the card {card}.")
    await audit.record(AuditEntry(caller.name, caller.role_name, "card", [customer["customer_id"]], card))
    shops = sorted({c["source"] for c in customer.get("loyalty_cards", [])})
    return CardResponse(card=card, customer_id=customer["customer_id"], display_name=display_name(customer), shops=shops, customer=customer)
