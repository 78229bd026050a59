"""The one place that builds the Litestar app (``create_app``)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from decimal import Decimal

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.stores.redis import RedisStore

from admin.console import build_console, console_route
from api.activities.activities import ActivitiesController, PatrolTasksController
from api.activities.grid_workers import GridWorkerRatingsController
from api.activities.overdue import OverdueController
from api.campaigns.campaigns import CampaignsController
from api.community.auth import AuthController, build_jwt_auth
from api.community.members import InvitationsController, MembersController
from api.community.organisations import OrganisationsController
from api.community.sessions import SessionsController
from api.community.teams import TeamsController
from api.dependencies import APP_DEPENDENCIES
from api.errors import EXCEPTION_HANDLERS
from api.fraud.cases import FraudCasesController
from api.fraud.exemptions import FraudAllowPairsController, FraudSnoozesController
from api.fraud.settings import FraudSettingsController
from api.fraud.statistics import FraudStatisticsController
from api.health import HealthController
from api.leaderboards.boards import LeaderboardsController, LeagueMethodController, RankingVisibilityController
from api.leaderboards.seasons import SeasonsController
from api.ledger.accounts import AccountsController
from api.ledger.entries import LedgerController
from api.ledger.wallet import MeController
from api.marketplace.catalog import CatalogController
from api.marketplace.orders import OrdersController, pickup_keys
from api.marketplace.shops import ShopsController, organisation_pickup_conflicts
from api.openapi import SCHEMA_PATH, render_plugins, ui_route_handlers
from api.recognition.recognition import MemberBadgesController, MyRecognitionController, StarThresholdsController
from api.redis_client import build_redis
from api.reporting.dashboard import DashboardController
from api.security_headers import security_headers_hook
from api.session_events import member_change_notifications
from core import database
from fengling_settings import get_settings
from jobs.background import background_jobs
from web.activity_pages import ActivityPages
from web.auth_pages import LoginPages
from web.counter_pages import CounterPages
from web.dashboard_pages import DashboardPages
from web.earn_pages import EarnPages, ServiceWorkerScript
from web.member_pages import MemberPages
from web.mount import page_middleware, pages_router, static_files_router, template_config
from web.ranking_pages import RankingPages
from web.recognition_pages import RecognitionPages
from web.shop_pages import ShopPages
from web.task_pages import TaskPages

# Connections per API process; PostgreSQL's default allows 100 in all.
POOL_MAX_SIZE = 10


def freeze_what_startup_built() -> None:
    """Move every object alive after startup (the app, its routes, models,
    schemas, modules: ~110,000 here) out of the garbage collector's sight.

    They live as long as the process, yet a full collection walks them all:
    27 ms of CPU on this machine, during which the worker answers nothing.
    Under load that came every few hundred requests and set the p99 of the
    wallet read (``bench/RESULTS.md``). Frozen, a full collection only walks
    what requests made since. Servers only (``admin/serving.py``): a test
    process builds many apps and must be able to collect them."""
    gc.collect()
    gc.freeze()


def create_app(*, run_background_jobs: bool | None = None, freeze_after_startup: bool = False) -> Litestar:
    """Build the app. On PostgreSQL its lifespan opens a connection pool on
    the loop the app runs on, unless that loop has one already
    (``core.engines``: a pool belongs to its loop, so a test client's app
    and the test itself each keep their own).
    Servers pass ``freeze_after_startup`` (``freeze_what_startup_built``)."""
    settings = get_settings()
    redis = build_redis(settings)
    jwt_auth = build_jwt_auth(settings)
    jobs_enabled = settings.background_jobs if run_background_jobs is None else run_background_jobs

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            async with database.pooled_connections(max_size=POOL_MAX_SIZE), member_change_notifications(redis):
                if jobs_enabled:
                    async with background_jobs(redis):
                        yield
                else:
                    yield
        finally:
            await redis.aclose()

    app = Litestar(
        route_handlers=[
            HealthController,
            AuthController,
            SessionsController,
            MeController,
            AccountsController,
            LedgerController,
            CatalogController,
            OrdersController,
            pickup_keys,
            ShopsController,
            organisation_pickup_conflicts,
            DashboardController,
            OrganisationsController,
            MembersController,
            InvitationsController,
            TeamsController,
            OverdueController,
            GridWorkerRatingsController,
            LeaderboardsController,
            RankingVisibilityController,
            LeagueMethodController,
            SeasonsController,
            MyRecognitionController,
            MemberBadgesController,
            StarThresholdsController,
            CampaignsController,
            ActivitiesController,
            PatrolTasksController,
            FraudCasesController,
            FraudStatisticsController,
            FraudSnoozesController,
            FraudAllowPairsController,
            FraudSettingsController,
            # Everything else is page-side: server-rendered pages with cookie
            # sessions and CSRF-checked forms (web/), their static files, the
            # OpenAPI UI and the operator console (piccolo_admin, built once
            # here; admins only). Only these pass through compression and
            # CSRF (web/mount.py): the API above pays for neither.
            pages_router(
                settings,
                [
                    *ui_route_handlers(),
                    LoginPages,
                    MemberPages,
                    ShopPages,
                    ActivityPages,
                    RankingPages,
                    RecognitionPages,
                    DashboardPages,
                    EarnPages,
                    TaskPages,
                    CounterPages,
                    ServiceWorkerScript,
                    static_files_router(),
                    console_route(build_console(secure_cookies=settings.cookie_secure)),
                ],
            ),
        ],
        template_config=template_config(),
        lifespan=[lifespan],
        on_startup=[freeze_what_startup_built] if freeze_after_startup else [],
        dependencies=APP_DEPENDENCIES,
        on_app_init=[jwt_auth.on_app_init],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[security_headers_hook(hsts=settings.hsts)],
        stores={"rate_limit": RedisStore(redis, namespace="fengling:rate-limit")},
        openapi_config=OpenAPIConfig(
            title="Fengling 风铃 API",
            version="0.1.0",
            description="志愿服务积分账本与积分超市 · Volunteer points ledger and points supermarket",
            path=SCHEMA_PATH,
            # The schema and its UI are page-side too (compressed, web/mount.py).
            openapi_router=Router(
                SCHEMA_PATH, route_handlers=[], include_in_schema=False, middleware=page_middleware(settings)
            ),
            render_plugins=render_plugins(),
            tags=[
                Tag(name="auth", description="登录 · Login"),
                Tag(name="me", description="我的积分 · My wallet"),
                Tag(name="ledger", description="积分账本 · Ledger"),
                Tag(name="marketplace", description="积分超市 · Points supermarket"),
                Tag(name="campaigns", description="积分活动与预算 · Campaigns and budgets"),
                Tag(name="activities", description="服务、巡逻、上报与审核 · Service, patrols, reports, verification"),
                Tag(name="community", description="社区与成员 · Community: organisations, members, teams"),
                Tag(name="leaderboards", description="排行榜 · Leaderboards"),
                Tag(name="health", description="运行状态 · Health"),
            ],
            components=Components(
                security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
        ),
        # Safety net for rule 1: Litestar's default turns a Decimal into a
        # JSON number. Amounts leave through api.points.Points (strings with
        # two places); any Decimal that slips past a wire model leaves as a
        # string too, never as a float.
        type_encoders={Decimal: str},
        debug=False,
    )
    app.state.redis = redis
    app.state.jwt_auth = jwt_auth
    return app
