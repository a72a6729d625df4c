"""The work pages: thin views that parse the request, call one service or selector and render.
One module per page family; refusals become responses in `refusals`, navigation in `navigation`."""
