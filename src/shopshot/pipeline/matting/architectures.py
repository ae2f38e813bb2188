"""SAM 2.1 and ViTMatte configs and random-weight builds: the registry checkpoints' full sizes (for
`bench/matte.py` and the size tests) and tiny ones for the offline tests. Nothing here downloads.
"""

import torch
from transformers import Sam2Config, Sam2Model, Sam2VideoConfig, Sam2VideoModel, VitMatteConfig, VitMatteForImageMatting

# The mask logit everywhere of a model `answering_everywhere`.
WHOLE_FRAME_LOGIT = 8.0

# facebook/sam2.1-hiera-tiny: the trunk and neck of Meta's sam2.1_hiera_t.yaml (Hiera embed_dim 96,
# one head, stages [1, 2, 7, 2], global attention in blocks 5, 7 and 9, a 7×7 window background,
# FPN over [768, 384, 192, 96] into 256 channels), which transformers' Sam2 config defaults spell out.
SEGMENTER_FULL = {
    "vision_config": {
        "backbone_config": {"model_type": "sam2_hiera_det_model", "hidden_size": 96, "num_attention_heads": 1, "blocks_per_stage": [1, 2, 7, 2],
                            "embed_dim_per_stage": [96, 192, 384, 768], "num_attention_heads_per_stage": [1, 2, 4, 8],
                            "window_size_per_stage": [8, 4, 14, 7], "global_attention_blocks": [5, 7, 9],
                            "window_positional_embedding_background_size": [7, 7], "image_size": [1024, 1024]},
        "backbone_channel_list": [768, 384, 192, 96], "fpn_hidden_size": 256,
        "backbone_feature_sizes": [[256, 256], [128, 128], [64, 64]],
    },
    "prompt_encoder_config": {"hidden_size": 256, "image_size": 1024, "patch_size": 16},
    "mask_decoder_config": {"hidden_size": 256, "num_attention_heads": 8, "mlp_dim": 2048},
}
# The same layout at 128 px and narrow widths (as transformers' own tiny random Sam2Model), with
# initial weights ten times wider than the default 0.02: at 0.02 random mask logits are about 1e-4,
# where a dtype's rounding flips their sign; at 0.2 they are of order one, as a trained model's are.
_WIDE = {"initializer_range": 0.2}
SEGMENTER_TINY = {
    **_WIDE,
    "vision_config": {
        **_WIDE,
        "backbone_config": {**_WIDE, "model_type": "sam2_hiera_det_model", "hidden_size": 12, "num_attention_heads": 1, "blocks_per_stage": [1, 2, 7, 2],
                            "embed_dim_per_stage": [12, 24, 48, 96], "num_attention_heads_per_stage": [1, 2, 4, 8],
                            "window_size_per_stage": [8, 4, 14, 7], "global_attention_blocks": [5, 7, 9],
                            "window_positional_embedding_background_size": [7, 7], "image_size": [128, 128]},
        "backbone_channel_list": [96, 48, 24, 12], "fpn_hidden_size": 32,
        "backbone_feature_sizes": [[32, 32], [16, 16], [8, 8]],
    },
    "prompt_encoder_config": {**_WIDE, "hidden_size": 32, "image_size": 128, "patch_size": 16, "mask_input_channels": 8},
    "mask_decoder_config": {**_WIDE, "hidden_size": 32, "num_attention_heads": 4, "mlp_dim": 64, "iou_head_hidden_dim": 32},
    "memory_attention_hidden_size": 32, "memory_attention_feed_forward_hidden_size": 32,
    "memory_encoder_hidden_size": 32, "memory_fuser_embed_dim": 32, "mask_downsampler_embed_dim": 32,
}
# hustvl/vitmatte-small-composition-1k's config.json (837 bytes, commit 3c919e7): a ViTDet-S
# backbone on RGB + trimap, windowed attention with four global blocks, the detail-capture decoder.
MATTING_FULL = {
    "backbone_config": {"model_type": "vitdet", "hidden_size": 384, "image_size": 512, "num_attention_heads": 6,
                        "num_channels": 4, "out_features": ["stage12"], "out_indices": [12],
                        "residual_block_indices": [2, 5, 8, 11], "use_relative_position_embeddings": True,
                        "window_block_indices": [0, 1, 3, 4, 6, 7, 9, 10], "window_size": 14},
    "hidden_size": 384, "convstream_hidden_sizes": [48, 96, 192], "fusion_hidden_sizes": [256, 128, 64, 32],
}
MATTING_TINY = {
    "backbone_config": {"model_type": "vitdet", "hidden_size": 16, "image_size": 64, "pretrain_image_size": 64,
                        "num_attention_heads": 2, "num_hidden_layers": 2, "num_channels": 4, "patch_size": 16,
                        "out_features": ["stage2"], "out_indices": [2], "residual_block_indices": [1],
                        "use_relative_position_embeddings": True, "window_block_indices": [0], "window_size": 2},
    "hidden_size": 16, "convstream_hidden_sizes": [4, 8, 16], "fusion_hidden_sizes": [16, 8, 8, 4],
}


def segmenter(fields: dict) -> Sam2Model:
    """A Sam2Model with random weights from one of the config dicts above."""
    return Sam2Model(Sam2Config(**fields)).eval()


def segmenter_checkpoint_config(fields: dict) -> Sam2VideoConfig:
    """The config as the Hub's SAM 2.1 repositories hold it (`sam2_video`: image and video modules)."""
    return Sam2VideoConfig(**fields)


def matting(fields: dict) -> VitMatteForImageMatting:
    """A VitMatteForImageMatting with random weights from one of the config dicts above."""
    return VitMatteForImageMatting(VitMatteConfig(**fields)).eval()


def answering_everywhere(model: Sam2Model | Sam2VideoModel) -> Sam2Model | Sam2VideoModel:
    """The model with its mask decoder saying "product" at every pixel, so the box prompts alone decide
    the mask: random weights say anything, and a test or benchmark needs the whole stage to run."""
    decoder = model.mask_decoder
    with torch.no_grad():
        for conv in (decoder.conv_s0, decoder.upscale_conv2):
            conv.weight.zero_()
            conv.bias.zero_()
        decoder.upscale_conv2.bias.fill_(WHOLE_FRAME_LOGIT)
        for mlp in decoder.output_hypernetworks_mlps:
            mlp.proj_out.weight.zero_()
            mlp.proj_out.bias.fill_(1.0 / mlp.proj_out.out_features)
    return model


def seeded(seed: int = 0) -> None:
    """Random weights the same on every run."""
    torch.manual_seed(seed)
