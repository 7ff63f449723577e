"""The kiosk's eyes: camera capture, QR decoding, and turning frames into scans.

Qt-free: `decoders` (the Decoder interface and its backends), `sources`
(camera and file frame sources), `validator` (consecutive-frame acceptance,
same-code suppression), `mailbox` (newest-frame hand-over) and `synth`
(synthetic door-camera frames). Qt: `worker` (capture and decode threads,
and the `Scanner` facade the GUI talks to).
"""
