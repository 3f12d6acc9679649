"""One router per resource; routes translate HTTP into service calls and back."""
