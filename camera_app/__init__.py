"""FashionCam's desktop app: a PyQt5 window that names the garment held up to a webcam.

Run it with `python -m camera_app` (see camera_app/__main__.py). The per-frame work lives in
camera_app.frame and the steady answer in camera_app.answer (no Qt in either), the frame
sources in camera_app.sources.
"""
