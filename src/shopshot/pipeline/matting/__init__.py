"""The neural product matte (SAM 2.1 + ViTMatte). Import `loading` inside a worker's setup: `neural` imports torch."""
