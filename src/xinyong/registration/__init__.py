"""Voluntary registration (自愿注册): information a subject declares about itself, with a truthfulness commitment."""
