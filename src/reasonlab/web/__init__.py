"""The web page served by `reasonlab serve` (plain HTML/CSS/JS, no build step, nothing from the internet)."""
