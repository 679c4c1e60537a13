"""The web page behind ``responsesim serve``: a FastAPI app (``create_app``) and its runner (``serve``)."""

from responsesim.web.settings import WebSettings

__all__ = ["WebSettings"]
