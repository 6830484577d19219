"""colorme-live: live hair recolouring.

``QT_ENV_AT_IMPORT`` keeps the Qt variables as they were before anything here imported OpenCV:
importing ``cv2`` (the pip wheels with a GUI) overwrites ``QT_QPA_PLATFORM_PLUGIN_PATH`` and
``QT_QPA_FONTDIR`` with its own Qt 5 plugins and fonts, which ``app.qtenv`` undoes before our
Qt 6 starts."""

import os as _os

QT_ENV_AT_IMPORT: dict[str, str | None] = {
    _name: _os.environ.get(_name) for _name in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")
}
