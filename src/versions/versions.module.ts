import { Module } from '@nestjs/common';
import { ApiVersionsController } from './api-versions.controller.js';

@Module({ controllers: [ApiVersionsController] })
export class VersionsModule {}
