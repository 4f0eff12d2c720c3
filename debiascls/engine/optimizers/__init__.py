from .multi_model_constructor import MultiModelOptimWrapperConstructor

__all__ = ['MultiModelOptimWrapperConstructor']
