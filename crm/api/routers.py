from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer with and without the trailing slash (integrators write both).

    A redirect would not do: clients turn a redirected POST into a GET.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
